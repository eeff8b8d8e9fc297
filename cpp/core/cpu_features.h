#pragma once
// Run-time ISA dispatch: kernels come in _avx512 / _avx2 / scalar variants and pick the best the
// CPU supports. RECAFFE_ISA=avx2|scalar caps the choice (for tests of every variant).
namespace recaffe {

enum class Isa { Scalar = 0, Avx2 = 1, Avx512 = 2 };

Isa best_isa();           // what the CPU supports, capped by RECAFFE_ISA / set_max_isa
void set_max_isa(Isa isa);
const char* isa_name(Isa isa);

}  // namespace recaffe
