//! Inception-v3 for 32×32 inputs: a stem without stride (32 → 30), three Inception-A
//! modules, a reduction to 14×14, four factorised 7×7 modules, a reduction to 6×6 and two
//! expanded-filter-bank modules.

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

/// Inception-A: 1×1, 1×1→5×5, 1×1→3×3→3×3 and avg-pool→3×3 branches at full resolution.
#[derive(Debug)]
struct InceptionA {
    branch1x1: ConvBn,
    branch5x5: ConvChain,
    branch3x3: ConvChain,
    branchpool_pool: Pool,
    branchpool_conv: ConvBn,
    cat: Concat,
}

impl InceptionA {
    fn new(p: &nn::Path, c_in: i64, pool_features: i64) -> Self {
        let k1 = ConvSpec::k(1);
        let k3 = ConvSpec::k(3).pad(1);
        Self {
            branch1x1: basic(&(p / "branch1x1"), c_in, 64, k1),
            branch5x5: basic_seq(&(p / "branch5x5"), c_in, &[(48, k1), (64, ConvSpec::k(5).pad(2))]),
            branch3x3: basic_seq(&(p / "branch3x3"), c_in, &[(64, k1), (96, k3), (96, k3)]),
            branchpool_pool: Pool::avg(&(p / "branchpool" / "0"), 3, 1, 1),
            // The reference uses a 3×3 convolution here, not the paper's 1×1.
            branchpool_conv: basic(&(p / "branchpool" / "1"), c_in, pool_features, k3),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let pool = self.branchpool_conv.forward(&self.branchpool_pool.forward(x)?)?;
        let parts = [self.branch1x1.forward(x)?, self.branch5x5.forward(x)?, self.branch3x3.forward(x)?, pool];
        self.cat.forward(&parts)
    }
}

/// Inception-B: grid reduction by a strided 3×3, a strided 3×3 stack and a max pool.
#[derive(Debug)]
struct InceptionB {
    branch3x3: ConvBn,
    branch3x3stack: ConvChain,
    branchpool: Pool,
    cat: Concat,
}

impl InceptionB {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        let convs = [(64, ConvSpec::k(1)), (96, ConvSpec::k(3).pad(1)), (96, ConvSpec::k(3).stride(2))];
        Self {
            branch3x3: basic(&(p / "branch3x3"), c_in, 384, ConvSpec::k(3).stride(2)),
            branch3x3stack: basic_seq(&(p / "branch3x3stack"), c_in, &convs),
            branchpool: Pool::max(&(p / "branchpool"), 3, 2, 0),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let parts = [self.branch3x3.forward(x)?, self.branch3x3stack.forward(x)?, self.branchpool.forward(x)?];
        self.cat.forward(&parts)
    }
}

/// Inception-C: 7×7 convolutions factorised into 7×1 and 1×7 pairs.
#[derive(Debug)]
struct InceptionC {
    branch1x1: ConvBn,
    branch7x7: ConvChain,
    branch7x7stack: ConvChain,
    branch_pool_pool: Pool,
    branch_pool_conv: ConvBn,
    cat: Concat,
}

impl InceptionC {
    fn new(p: &nn::Path, c_in: i64, c7: i64) -> Self {
        let (k1, k71, k17) = (ConvSpec::k(1), ConvSpec::rect(7, 1).pad2(3, 0), ConvSpec::rect(1, 7).pad2(0, 3));
        let stack = [(c7, k1), (c7, k71), (c7, k17), (c7, k71), (192, k17)];
        Self {
            branch1x1: basic(&(p / "branch1x1"), c_in, 192, k1),
            branch7x7: basic_seq(&(p / "branch7x7"), c_in, &[(c7, k1), (c7, k71), (192, k17)]),
            branch7x7stack: basic_seq(&(p / "branch7x7stack"), c_in, &stack),
            branch_pool_pool: Pool::avg(&(p / "branch_pool" / "0"), 3, 1, 1),
            branch_pool_conv: basic(&(p / "branch_pool" / "1"), c_in, 192, k1),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let pool = self.branch_pool_conv.forward(&self.branch_pool_pool.forward(x)?)?;
        let parts = [self.branch1x1.forward(x)?, self.branch7x7.forward(x)?, self.branch7x7stack.forward(x)?, pool];
        self.cat.forward(&parts)
    }
}

/// Inception-D: grid reduction by 1×1→strided 3×3, a factorised 7×7 stack and an avg pool.
#[derive(Debug)]
struct InceptionD {
    branch3x3: ConvChain,
    branch7x7: ConvChain,
    branchpool: Pool,
    cat: Concat,
}

impl InceptionD {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        let (k1, s2) = (ConvSpec::k(1), ConvSpec::k(3).stride(2));
        let stack =
            [(192, k1), (192, ConvSpec::rect(1, 7).pad2(0, 3)), (192, ConvSpec::rect(7, 1).pad2(3, 0)), (192, s2)];
        Self {
            branch3x3: basic_seq(&(p / "branch3x3"), c_in, &[(192, k1), (320, s2)]),
            branch7x7: basic_seq(&(p / "branch7x7"), c_in, &stack),
            branchpool: Pool::avg(&(p / "branchpool"), 3, 2, 0),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let parts = [self.branch3x3.forward(x)?, self.branch7x7.forward(x)?, self.branchpool.forward(x)?];
        self.cat.forward(&parts)
    }
}

/// Inception-E: expanded filter banks, where 1×3 and 3×1 convolutions of the same input are
/// concatenated instead of chained.
#[derive(Debug)]
struct InceptionE {
    branch1x1: ConvBn,
    branch3x3_1: ConvBn,
    branch3x3_2a: ConvBn,
    branch3x3_2b: ConvBn,
    branch3x3_cat: Concat,
    branch3x3stack_1: ConvBn,
    branch3x3stack_2: ConvBn,
    branch3x3stack_3a: ConvBn,
    branch3x3stack_3b: ConvBn,
    branch3x3stack_cat: Concat,
    branch_pool_pool: Pool,
    branch_pool_conv: ConvBn,
    cat: Concat,
}

impl InceptionE {
    fn new(p: &nn::Path, c_in: i64) -> Self {
        let (k1, k13, k31) = (ConvSpec::k(1), ConvSpec::rect(1, 3).pad2(0, 1), ConvSpec::rect(3, 1).pad2(1, 0));
        Self {
            branch1x1: basic(&(p / "branch1x1"), c_in, 320, k1),
            branch3x3_1: basic(&(p / "branch3x3_1"), c_in, 384, k1),
            branch3x3_2a: basic(&(p / "branch3x3_2a"), 384, 384, k13),
            branch3x3_2b: basic(&(p / "branch3x3_2b"), 384, 384, k31),
            branch3x3_cat: Concat::new(&(p / "branch3x3_cat")),
            branch3x3stack_1: basic(&(p / "branch3x3stack_1"), c_in, 448, k1),
            branch3x3stack_2: basic(&(p / "branch3x3stack_2"), 448, 384, ConvSpec::k(3).pad(1)),
            branch3x3stack_3a: basic(&(p / "branch3x3stack_3a"), 384, 384, k13),
            branch3x3stack_3b: basic(&(p / "branch3x3stack_3b"), 384, 384, k31),
            branch3x3stack_cat: Concat::new(&(p / "branch3x3stack_cat")),
            branch_pool_pool: Pool::avg(&(p / "branch_pool" / "0"), 3, 1, 1),
            branch_pool_conv: basic(&(p / "branch_pool" / "1"), c_in, 192, k1),
            cat: Concat::new(&(p / "cat")),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor, TchError> {
        let b = self.branch3x3_1.forward(x)?;
        let branch3x3 =
            self.branch3x3_cat.forward(&[self.branch3x3_2a.forward(&b)?, self.branch3x3_2b.forward(&b)?])?;
        let s = self.branch3x3stack_2.forward(&self.branch3x3stack_1.forward(x)?)?;
        let stack = self
            .branch3x3stack_cat
            .forward(&[self.branch3x3stack_3a.forward(&s)?, self.branch3x3stack_3b.forward(&s)?])?;
        let pool = self.branch_pool_conv.forward(&self.branch_pool_pool.forward(x)?)?;
        self.cat.forward(&[self.branch1x1.forward(x)?, branch3x3, stack, pool])
    }
}

/// The whole network; fields carry the reference's attribute names.
#[derive(Debug)]
pub struct InceptionV3 {
    /// `Conv2d_1a_3x3` to `Conv2d_4a_3x3`.
    stem: Vec<ConvBn>,
    mixed_5: [InceptionA; 3],
    mixed_6a: InceptionB,
    mixed_6: [InceptionC; 4],
    mixed_7a: InceptionD,
    mixed_7: [InceptionE; 2],
    avgpool: Pool,
    dropout: Dropout,
    flatten: Flatten,
    linear: Layer<nn::Linear>,
}

impl InceptionV3 {
    /// Builds the variables under `p`.
    pub fn new(p: &nn::Path, num_classes: i64) -> Self {
        let k3 = ConvSpec::k(3).pad(1);
        let stem = [
            ("Conv2d_1a_3x3", 3, 32, k3),
            ("Conv2d_2a_3x3", 32, 32, k3),
            ("Conv2d_2b_3x3", 32, 64, k3),
            ("Conv2d_3b_1x1", 64, 80, ConvSpec::k(1)),
            ("Conv2d_4a_3x3", 80, 192, ConvSpec::k(3)),
        ];
        Self {
            stem: stem.iter().map(|&(name, c_in, c_out, spec)| basic(&(p / name), c_in, c_out, spec)).collect(),
            mixed_5: [
                InceptionA::new(&(p / "Mixed_5b"), 192, 32),
                InceptionA::new(&(p / "Mixed_5c"), 256, 64),
                InceptionA::new(&(p / "Mixed_5d"), 288, 64),
            ],
            mixed_6a: InceptionB::new(&(p / "Mixed_6a"), 288),
            mixed_6: [
                InceptionC::new(&(p / "Mixed_6b"), 768, 128),
                InceptionC::new(&(p / "Mixed_6c"), 768, 160),
                InceptionC::new(&(p / "Mixed_6d"), 768, 160),
                InceptionC::new(&(p / "Mixed_6e"), 768, 192),
            ],
            mixed_7a: InceptionD::new(&(p / "Mixed_7a"), 768),
            mixed_7: [InceptionE::new(&(p / "Mixed_7b"), 1280), InceptionE::new(&(p / "Mixed_7c"), 2048)],
            avgpool: Pool::global_avg(&(p / "avgpool")),
            dropout: Dropout::channels(&(p / "dropout"), 0.5),
            flatten: Flatten::new(&(p / "flatten")),
            linear: linear(&(p / "linear"), 2048, num_classes),
        }
    }
}

impl Net for InceptionV3 {
    fn forward(&self, xs: &Tensor) -> Result<Tensor, TchError> {
        let mut x = xs.shallow_clone();
        for unit in &self.stem {
            x = unit.forward(&x)?;
        }
        for block in &self.mixed_5 {
            x = block.forward(&x)?;
        }
        x = self.mixed_6a.forward(&x)?;
        for block in &self.mixed_6 {
            x = block.forward(&x)?;
        }
        x = self.mixed_7a.forward(&x)?;
        for block in &self.mixed_7 {
            x = block.forward(&x)?;
        }
        let x = self.dropout.forward(&self.avgpool.forward(&x)?)?;
        self.linear.forward(&self.flatten.forward(&x)?)
    }
}
