//! VGG-16 with batch norm (configuration "D"), sized for 32×32 inputs: five 2×2 max pools
//! bring the map to 1×1, so the classifier starts from 512 features.

use tch::{nn, TchError, Tensor};

use super::layers::{linear, Act, Activation, ConvBn, ConvSpec, Dropout, Flatten, Layer, Pool};
use super::net::Net;

/// Output channels of the 3×3 convolutions of each block; every block ends in a max pool.
const CONFIG_D: [&[i64]; 5] = [&[64, 64], &[128, 128], &[256, 256, 256], &[512, 512, 512], &[512, 512, 512]];

/// Conv-BN-ReLU units followed by a 2×2 max pool.
#[derive(Debug)]
struct VggBlock {
    convs: Vec<ConvBn>,
    pool: Pool,
}

impl VggBlock {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.convs.iter().try_fold(xs.shallow_clone(), |x, unit| unit.forward(&x))?;
        self.pool.forward(&x)
    }
}

/// The blocks of `features`. Indices count every module of the reference's flat
/// `nn.Sequential`, `ReLUs` and pools included, so `features.3` is the second convolution.
fn features(p: &nn::Path) -> Vec<VggBlock> {
    let (mut index, mut c_in) = (0, 3);
    let mut blocks = Vec::with_capacity(CONFIG_D.len());
    for widths in CONFIG_D {
        let mut convs = Vec::with_capacity(widths.len());
        for &c_out in widths {
            convs.push(ConvBn::seq(p, index, c_in, c_out, ConvSpec::k(3).pad(1), Some(Act::Relu)));
            (index, c_in) = (index + 3, c_out);
        }
        blocks.push(VggBlock { convs, pool: Pool::max(&(p / index.to_string()), 2, 2, 0) });
        index += 1;
    }
    blocks
}

/// Linear-ReLU-dropout twice, then the output layer (`classifier.0` to `classifier.6`).
#[derive(Debug)]
struct Classifier {
    fc1: Layer<nn::Linear>,
    relu1: Activation,
    drop1: Dropout,
    fc2: Layer<nn::Linear>,
    relu2: Activation,
    drop2: Dropout,
    fc3: Layer<nn::Linear>,
}

impl Classifier {
    fn new(p: &nn::Path, num_classes: i64) -> Self {
        Self {
            fc1: linear(&(p / "0"), 512, 4096),
            relu1: Activation::relu(&(p / "1")),
            drop1: Dropout::new(&(p / "2"), 0.5),
            fc2: linear(&(p / "3"), 4096, 4096),
            relu2: Activation::relu(&(p / "4")),
            drop2: Dropout::new(&(p / "5"), 0.5),
            fc3: linear(&(p / "6"), 4096, num_classes),
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.drop1.forward(&self.relu1.forward(self.fc1.forward(xs)?)?)?;
        let x = self.drop2.forward(&self.relu2.forward(self.fc2.forward(&x)?)?)?;
        self.fc3.forward(&x)
    }
}

/// VGG-16-BN: `features` (conv-BN-ReLU units and max pools), then the classifier.
#[derive(Debug)]
pub struct Vgg16 {
    features: Vec<VggBlock>,
    flatten: Flatten,
    classifier: Classifier,
}

impl Vgg16 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        Self {
            features: features(&(p / "features")),
            flatten: Flatten::new(&(p / "flatten")),
            classifier: Classifier::new(&(p / "classifier"), num_classes),
        }
    }
}

impl Net for Vgg16 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.features.iter().try_fold(xs.shallow_clone(), |x, block| block.forward(&x))?;
        self.classifier.forward(&self.flatten.forward(&x)?)
    }
}
