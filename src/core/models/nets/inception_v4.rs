//! Inception-v4 for 32×32 inputs: a stem that keeps 30×30, four Inception-A modules, a
//! reduction to 14×14, seven Inception-B modules, a reduction to 7×7 and three Inception-C
//! modules, then a 7×7 average pool.

use tch::{nn, TchError, Tensor};

use super::layers::{linear, Act, Concat, ConvBn, ConvChain, ConvSpec, Dropout, Flatten, Layer, Pool};
use super::net::Net;

/// The reference's `BasicConv2d`: bias-free convolution, batch norm, `ReLU`.
fn basic(p: &nn::Path, c_in: i64, c_out: i64, spec: ConvSpec) -> ConvBn {
    ConvBn::named(p, c_in, c_out, spec.no_bias(), Some(Act::Relu))
}

/// An `nn.Sequential` of `BasicConv2d`s; `convs` lists (output channels, spec).
fn basic_seq(p: &nn::Path, c_in: i64, convs: &[(i64, ConvSpec)]) -> ConvChain {
    let convs: Vec<_> = convs.iter().map(|&(c, spec)| (c, spec.no_bias())).collect();
    ConvChain::named(p, c_in, &convs, Some(Act::Relu))
}

const K1: ConvSpec = ConvSpec::k(1);
const K3: ConvSpec = ConvSpec::k(3).pad(1);
const K3_S2: ConvSpec = ConvSpec::k(3).stride(2);
const K17: ConvSpec = ConvSpec::rect(1, 7).pad2(0, 3);
const K71: ConvSpec = ConvSpec::rect(7, 1).pad2(3, 0);
const K13: ConvSpec = ConvSpec::rect(1, 3).pad2(0, 1);
const K31: ConvSpec = ConvSpec::rect(3, 1).pad2(1, 0);

/// The stem: three convolutions, then three rounds of two parallel branches joined by
/// concatenation (64 → 160 → 192 → 384 channels), all at 30×30.
#[derive(Debug)]
struct Stem {
    conv1: ConvChain,
    branch3x3_conv: ConvBn,
    branch3x3_pool: Pool,
    cat3x3: Concat,
    branch7x7a: ConvChain,
    branch7x7b: ConvChain,
    cat7x7: Concat,
    branchpoola: Pool,
    branchpoolb: ConvBn,
    catpool: Concat,
}

impl Stem {
    fn new(p: &nn::Path) -> Self {
        Self {
            conv1: basic_seq(&(p / "conv1"), 3, &[(32, ConvSpec::k(3)), (32, K3), (64, K3)]),
            branch3x3_conv: basic(&(p / "branch3x3_conv"), 64, 96, K3),
            branch3x3_pool: Pool::max(&(p / "branch3x3_pool"), 3, 1, 1),
            cat3x3: Concat::new(&(p / "cat3x3")),
            branch7x7a: basic_seq(&(p / "branch7x7a"), 160, &[(64, K1), (64, K71), (64, K17), (96, K3)]),
            branch7x7b: basic_seq(&(p / "branch7x7b"), 160, &[(64, K1), (96, K3)]),
            cat7x7: Concat::new(&(p / "cat7x7")),
            branchpoola: Pool::max(&(p / "branchpoola"), 3, 1, 1),
            branchpoolb: basic(&(p / "branchpoolb"), 192, 192, K3),
            catpool: Concat::new(&(p / "catpool")),
        }
    }

    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.conv1.forward(xs)?;
        let x = self.cat3x3.forward(&[self.branch3x3_conv.forward(&x)?, self.branch3x3_pool.forward(&x)?])?;
        let x = self.cat7x7.forward(&[self.branch7x7a.forward(&x)?, self.branch7x7b.forward(&x)?])?;
        self.catpool.forward(&[self.branchpoola.forward(&x)?, self.branchpoolb.forward(&x)?])
    }
}

/// Inception-A (35×35 grid in the paper): 384 channels in and out.
#[derive(Debug)]
struct InceptionA {
    branch3x3stack: ConvChain,
    branch3x3: ConvChain,
    branch1x1: ConvBn,
    branchpool_pool: Pool,
    branchpool_conv: ConvBn,
    cat: Concat,
}

impl InceptionA {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        Self {
            branch3x3stack: basic_seq(&(p / "branch3x3stack"), c_in, &[(64, K1), (96, K3), (96, K3)]),
            branch3x3: basic_seq(&(p / "branch3x3"), c_in, &[(64, K1), (96, K3)]),
            branch1x1: basic(&(p / "branch1x1"), c_in, 96, K1),
            branchpool_pool: Pool::avg(&(p / "branchpool" / "0"), 3, 1, 1),
            branchpool_conv: basic(&(p / "branchpool" / "1"), c_in, 96, K1),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let pool = self.branchpool_conv.forward(&self.branchpool_pool.forward(x)?)?;
        let parts = [self.branch3x3stack.forward(x)?, self.branch3x3.forward(x)?, self.branch1x1.forward(x)?, pool];
        self.cat.forward(&parts)
    }
}

/// Reduction-A with the paper's filter banks k, l, m, n = 192, 224, 256, 384.
#[derive(Debug)]
struct ReductionA {
    branch3x3stack: ConvChain,
    branch3x3: ConvBn,
    branchpool: Pool,
    cat: Concat,
}

impl ReductionA {
    const K: i64 = 192;
    const L: i64 = 224;
    const M: i64 = 256;
    const N: i64 = 384;

    fn new(p: &nn::Path, c_in: i64) -> Self {
        let stack = [(Self::K, K1), (Self::L, K3), (Self::M, K3_S2)];
        Self {
            branch3x3stack: basic_seq(&(p / "branch3x3stack"), c_in, &stack),
            branch3x3: basic(&(p / "branch3x3"), c_in, Self::N, K3_S2),
            branchpool: Pool::max(&(p / "branchpool"), 3, 2, 0),
            cat: Concat::new(&(p / "cat")),
        }
    }

    /// Channels out: both convolution branches plus the pooled input.
    fn out_channels(c_in: i64) -> i64 {
        c_in + Self::N + Self::M
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let parts = [self.branch3x3stack.forward(x)?, self.branch3x3.forward(x)?, self.branchpool.forward(x)?];
        self.cat.forward(&parts)
    }
}

/// Inception-B (17×17 grid in the paper): 1024 channels out, factorised 7×7 convolutions.
#[derive(Debug)]
struct InceptionB {
    branch7x7stack: ConvChain,
    branch7x7: ConvChain,
    branch1x1: ConvBn,
    branchpool_pool: Pool,
    branchpool_conv: ConvBn,
    cat: Concat,
}

impl InceptionB {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        let stack = [(192, K1), (192, K17), (224, K71), (224, K17), (256, K71)];
        Self {
            branch7x7stack: basic_seq(&(p / "branch7x7stack"), c_in, &stack),
            branch7x7: basic_seq(&(p / "branch7x7"), c_in, &[(192, K1), (224, K17), (256, K71)]),
            branch1x1: basic(&(p / "branch1x1"), c_in, 384, K1),
            branchpool_pool: Pool::avg(&(p / "branchpool" / "0"), 3, 1, 1),
            branchpool_conv: basic(&(p / "branchpool" / "1"), c_in, 128, K1),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let pool = self.branchpool_conv.forward(&self.branchpool_pool.forward(x)?)?;
        let parts = [self.branch1x1.forward(x)?, self.branch7x7.forward(x)?, self.branch7x7stack.forward(x)?, pool];
        self.cat.forward(&parts)
    }
}

/// Reduction-B: 1024 → 1536 channels, with padded stride-2 convolutions and max pool
/// (14×14 → 7×7).
#[derive(Debug)]
struct ReductionB {
    branch7x7: ConvChain,
    branch3x3: ConvChain,
    branchpool: Pool,
    cat: Concat,
}

impl ReductionB {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        let s2 = K3_S2.pad(1);
        Self {
            branch7x7: basic_seq(&(p / "branch7x7"), c_in, &[(256, K1), (256, K17), (320, K71), (320, s2)]),
            branch3x3: basic_seq(&(p / "branch3x3"), c_in, &[(192, K1), (192, s2)]),
            branchpool: Pool::max(&(p / "branchpool"), 3, 2, 1),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let parts = [self.branch3x3.forward(x)?, self.branch7x7.forward(x)?, self.branchpool.forward(x)?];
        self.cat.forward(&parts)
    }
}

/// Inception-C (8×8 grid in the paper): 1536 channels, two branches that end in parallel
/// 1×3 and 3×1 convolutions.
#[derive(Debug)]
struct InceptionC {
    branch3x3stack: ConvChain,
    branch3x3stacka: ConvBn,
    branch3x3stackb: ConvBn,
    branch3x3stack_cat: Concat,
    branch3x3: ConvBn,
    branch3x3a: ConvBn,
    branch3x3b: ConvBn,
    branch3x3_cat: Concat,
    branch1x1: ConvBn,
    branchpool_pool: Pool,
    branchpool_conv: ConvBn,
    cat: Concat,
}

impl InceptionC {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        Self {
            branch3x3stack: basic_seq(&(p / "branch3x3stack"), c_in, &[(384, K1), (448, K13), (512, K31)]),
            branch3x3stacka: basic(&(p / "branch3x3stacka"), 512, 256, K13),
            branch3x3stackb: basic(&(p / "branch3x3stackb"), 512, 256, K31),
            branch3x3stack_cat: Concat::new(&(p / "branch3x3stack_cat")),
            branch3x3: basic(&(p / "branch3x3"), c_in, 384, K1),
            branch3x3a: basic(&(p / "branch3x3a"), 384, 256, K31),
            branch3x3b: basic(&(p / "branch3x3b"), 384, 256, K13),
            branch3x3_cat: Concat::new(&(p / "branch3x3_cat")),
            branch1x1: basic(&(p / "branch1x1"), c_in, 256, K1),
            branchpool_pool: Pool::avg(&(p / "branchpool" / "0"), 3, 1, 1),
            branchpool_conv: basic(&(p / "branchpool" / "1"), c_in, 256, K1),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let s = self.branch3x3stack.forward(x)?;
        let stack =
            self.branch3x3stack_cat.forward(&[self.branch3x3stacka.forward(&s)?, self.branch3x3stackb.forward(&s)?])?;
        let b = self.branch3x3.forward(x)?;
        let branch3x3 = self.branch3x3_cat.forward(&[self.branch3x3a.forward(&b)?, self.branch3x3b.forward(&b)?])?;
        let pool = self.branchpool_conv.forward(&self.branchpool_pool.forward(x)?)?;
        self.cat.forward(&[self.branch1x1.forward(x)?, branch3x3, stack, pool])
    }
}

/// Builds `count` blocks named `{prefix}_0`, `{prefix}_1`, ... under `p`, as the reference's
/// `_generate_inception_module` does; the first takes `c_in` channels, the rest `c_out`.
fn repeat<B>(p: &nn::Path, prefix: &str, count: usize, c_in: i64, c_out: i64, new: fn(&nn::Path, i64) -> B) -> Vec<B> {
    (0..count).map(|i| new(&(p / format!("{prefix}_{i}")), if i == 0 { c_in } else { c_out })).collect()
}

/// The whole network (A, B, C = 4, 7, 3); fields carry the reference's attribute names.
#[derive(Debug)]
pub struct InceptionV4 {
    stem: Stem,
    inception_a: Vec<InceptionA>,
    reduction_a: ReductionA,
    inception_b: Vec<InceptionB>,
    reduction_b: ReductionB,
    inception_c: Vec<InceptionC>,
    avgpool: Pool,
    dropout: Dropout,
    flatten: Flatten,
    linear: Layer<nn::Linear>,
}

impl InceptionV4 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        Self {
            stem: Stem::new(&(p / "stem")),
            inception_a: repeat(&(p / "inception_a"), "InceptionA", 4, 384, 384, InceptionA::new),
            reduction_a: ReductionA::new(&(p / "reduction_a"), 384),
            inception_b: repeat(
                &(p / "inception_b"),
                "InceptionB",
                7,
                ReductionA::out_channels(384),
                1024,
                InceptionB::new,
            ),
            reduction_b: ReductionB::new(&(p / "reduction_b"), 1024),
            inception_c: repeat(&(p / "inception_c"), "InceptionC", 3, 1536, 1536, InceptionC::new),
            avgpool: Pool::avg(&(p / "avgpool"), 7, 7, 0),
            dropout: Dropout::channels(&(p / "dropout"), 0.2),
            flatten: Flatten::new(&(p / "flatten")),
            linear: linear(&(p / "linear"), 1536, num_classes),
        }
    }
}

impl Net for InceptionV4 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let x = self.inception_a.iter().try_fold(self.stem.forward(xs)?, |x, block| block.forward(&x))?;
        let x = self.reduction_a.forward(&x)?;
        let x = self.inception_b.iter().try_fold(x, |x, block| block.forward(&x))?;
        let x = self.reduction_b.forward(&x)?;
        let x = self.inception_c.iter().try_fold(x, |x, block| block.forward(&x))?;
        let x = self.dropout.forward(&self.avgpool.forward(&x)?)?;
        self.linear.forward(&self.flatten.forward(&x)?)
    }
}
