"""results/vip.json: the ViP issue's summary record, which two drivers fill in (vip_vgg16.py: the
speedups and the interpolation's share of time; vip_sensitivity.py: sensitivity and trade-off).
Each driver updates only its own fields, so either may run first or alone."""
from __future__ import annotations

import json
from pathlib import Path

FIELDS = ("sensitivity", "vgg16_round_speedup", "resnet50_speedup", "interp_time_share", "tradeoff")


def update_vip_summary(out: str | Path, fields: dict, notes: dict | None = None) -> Path:
    """Merge `fields` (and their `notes`: why a field is null, how it was measured) into out/vip.json."""
    path = Path(out) / "vip.json"
    record = json.loads(path.read_text()) if path.exists() else {}
    for k in FIELDS:
        record.setdefault(k, None)
    for k, v in fields.items():  # per-model dicts merge, so a run on some models keeps the others
        if isinstance(v, dict) and isinstance(record.get(k), dict):
            record[k].update(v)
        else:
            record[k] = v
    record.setdefault("notes", {}).update(notes or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    from recaffe.report import _jsonable
    path.write_text(json.dumps(_jsonable(record), indent=2) + "\n")
    return path
