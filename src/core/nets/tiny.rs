//! A small CNN (two conv/BN/ReLU stages, pooling, a classifier) for smoke tests.

use tch::nn;
use tch::Tensor;

use super::layers::{batch_norm2d, conv2d, linear, Layer, Step};
use super::Net;

#[derive(Debug)]
pub struct Tiny {
    conv1: Layer<nn::Conv2D>,
    bn1: Layer<nn::BatchNorm>,
    relu1: Step,
    pool: Step,
    conv2: Layer<nn::Conv2D>,
    bn2: Layer<nn::BatchNorm>,
    relu2: Step,
    gap: Step,
    fc: Layer<nn::Linear>,
}

impl Tiny {
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let pad1 = nn::ConvConfig { padding: 1, bias: false, ..Default::default() };
        Self {
            conv1: conv2d(&(p / "conv1"), 3, 16, 3, pad1),
            bn1: batch_norm2d(&(p / "bn1"), 16),
            relu1: Step::new(&(p / "relu1")),
            pool: Step::new(&(p / "pool")),
            conv2: conv2d(&(p / "conv2"), 16, 32, 3, pad1),
            bn2: batch_norm2d(&(p / "bn2"), 32),
            relu2: Step::new(&(p / "relu2")),
            gap: Step::new(&(p / "avgpool")),
            fc: linear(&(p / "fc"), 32, num_classes),
        }
    }
}

impl Net for Tiny {
    fn forward(&self, xs: &Tensor) -> Tensor {
        let x = self.relu1.run(&self.bn1.forward(&self.conv1.forward(xs)), Tensor::relu);
        let x = self.pool.run(&x, |x| x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false));
        let x = self.relu2.run(&self.bn2.forward(&self.conv2.forward(&x)), Tensor::relu);
        let x = self.gap.run(&x, |x| x.adaptive_avg_pool2d([1, 1]).flatten(1, -1));
        self.fc.forward(&x)
    }
}
