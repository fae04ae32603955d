//! A small CNN (two conv/BN/ReLU stages, pooling, a classifier) for smoke tests.

use tch::{nn, TchError, Tensor};

use super::layers::{batch_norm2d, conv, linear, BatchNorm2d, Conv2d, ConvSpec, Layer, Step};
use super::net::Net;

#[derive(Debug)]
pub struct Tiny {
    conv1: Layer<Conv2d>,
    bn1: Layer<BatchNorm2d>,
    relu1: Step,
    pool: Step,
    conv2: Layer<Conv2d>,
    bn2: Layer<BatchNorm2d>,
    relu2: Step,
    gap: Step,
    fc: Layer<nn::Linear>,
}

impl Tiny {
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let pad1 = ConvSpec::k(3).pad(1).no_bias();
        Self {
            conv1: conv(&(p / "conv1"), 3, 16, pad1),
            bn1: batch_norm2d(&(p / "bn1"), 16),
            relu1: Step::new(&(p / "relu1")),
            pool: Step::new(&(p / "pool")),
            conv2: conv(&(p / "conv2"), 16, 32, pad1),
            bn2: batch_norm2d(&(p / "bn2"), 32),
            relu2: Step::new(&(p / "relu2")),
            gap: Step::new(&(p / "avgpool")),
            fc: linear(&(p / "fc"), 32, num_classes),
        }
    }
}

impl Net for Tiny {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.relu1.run(&self.bn1.forward(&self.conv1.forward(xs)?)?, Tensor::f_relu)?;
        let x = self.pool.run(&x, |x| x.f_max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false))?;
        let x = self.relu2.run(&self.bn2.forward(&self.conv2.forward(&x)?)?, Tensor::f_relu)?;
        let x = self.gap.run(&x, |x| x.f_adaptive_avg_pool2d([1, 1])?.f_flatten(1, -1))?;
        self.fc.forward(&x)
    }
}
