#include "layers/pooling_layer.h"

namespace recaffe {

RECAFFE_REGISTER_LAYER("Pooling", PoolingLayer);

}  // namespace recaffe
