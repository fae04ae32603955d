//! Three well-known architectures none of the built-ins is, written here with `tch::nn` and
//! traced to `TorchScript` files, so that `cargo bench --bench predict` predicts models from
//! outside the built-in set (issue #29): `ResNet-18` (basic residual blocks), `VGG-11` with batch
//! norm, and `SqueezeNet` 1.1 (fire modules: a 1×1 squeeze, then 1×1 and 3×3 expands joined by
//! cat). Layer sizes follow the papers' `ImageNet` definitions with a 100-class head; the inputs
//! are sizes the built-ins never run. Weights are seeded random: timing does not depend on them.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use tch::nn::{self, Module, ModuleT};
use tch::{CModule, Device, Kind, Tensor};

/// (file stem, input [C, H, W]) of each traced model.
pub const MODELS: [(&str, [i64; 3]); 3] =
    [("resnet18@96", [3, 96, 96]), ("vgg11bn@64", [3, 64, 64]), ("squeezenet11@128", [3, 128, 128])];

fn conv_bn(p: &nn::Path, c_in: i64, c_out: i64, k: i64, stride: i64) -> nn::SequentialT {
    let conv = nn::ConvConfig { stride, padding: k / 2, bias: false, ..nn::ConvConfig::default() };
    let bn = nn::batch_norm2d(p / "bn", c_out, nn::BatchNormConfig::default());
    nn::seq_t().add(nn::conv2d(p / "conv", c_in, c_out, k, conv)).add(bn)
}

fn basic_block(p: &nn::Path, c_in: i64, c_out: i64, stride: i64) -> impl ModuleT {
    let body =
        conv_bn(&(p / "a"), c_in, c_out, 3, stride).add_fn(Tensor::relu).add(conv_bn(&(p / "b"), c_out, c_out, 3, 1));
    let shortcut = (stride != 1 || c_in != c_out).then(|| conv_bn(&(p / "down"), c_in, c_out, 1, stride));
    nn::func_t(move |x, train| {
        let skip = shortcut.as_ref().map_or_else(|| x.shallow_clone(), |s| s.forward_t(x, train));
        (body.forward_t(x, train) + skip).relu()
    })
}

fn resnet18(p: &nn::Path) -> nn::SequentialT {
    let mut net = nn::seq_t()
        .add(conv_bn(&(p / "stem"), 3, 64, 7, 2))
        .add_fn(|x| x.relu().max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false));
    let mut c_in = 64;
    for (stage, c_out) in [64, 128, 256, 512].into_iter().enumerate() {
        for block in 0..2 {
            let stride = if stage > 0 && block == 0 { 2 } else { 1 };
            net = net.add(basic_block(&(p / format!("layer{stage}_{block}")), c_in, c_out, stride));
            c_in = c_out;
        }
    }
    net.add_fn(|x| x.adaptive_avg_pool2d([1, 1]).flatten(1, -1)).add(nn::linear(
        p / "fc",
        512,
        100,
        nn::LinearConfig::default(),
    ))
}

fn vgg11_bn(p: &nn::Path, side: i64) -> nn::SequentialT {
    let mut net = nn::seq_t();
    let mut c_in = 3;
    for (i, c) in [64, -1, 128, -1, 256, 256, -1, 512, 512, -1, 512, 512, -1].into_iter().enumerate() {
        if c < 0 {
            net = net.add_fn(|x| x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false));
        } else {
            net = net.add(conv_bn(&(p / format!("f{i}")), c_in, c, 3, 1)).add_fn(Tensor::relu);
            c_in = c;
        }
    }
    let flat = 512 * (side / 32) * (side / 32);
    net.add_fn(|x| x.flatten(1, -1))
        .add(nn::linear(p / "fc1", flat, 4096, nn::LinearConfig::default()))
        .add_fn(Tensor::relu)
        .add(nn::linear(p / "fc2", 4096, 4096, nn::LinearConfig::default()))
        .add_fn(Tensor::relu)
        .add(nn::linear(p / "fc3", 4096, 100, nn::LinearConfig::default()))
}

fn fire(p: &nn::Path, c_in: i64, squeeze: i64, expand: i64) -> impl Module {
    let conv =
        |p: nn::Path, i, o, k| nn::conv2d(p, i, o, k, nn::ConvConfig { padding: k / 2, ..nn::ConvConfig::default() });
    let s = conv(p / "squeeze", c_in, squeeze, 1);
    let e1 = conv(p / "expand1", squeeze, expand, 1);
    let e3 = conv(p / "expand3", squeeze, expand, 3);
    nn::func(move |x| {
        let x = x.apply(&s).relu();
        Tensor::cat(&[x.apply(&e1).relu(), x.apply(&e3).relu()], 1)
    })
}

fn squeezenet11(p: &nn::Path) -> nn::Sequential {
    let pool = |x: &Tensor| x.max_pool2d([3, 3], [2, 2], [0, 0], [1, 1], true);
    nn::seq()
        .add(nn::conv2d(p / "stem", 3, 64, 3, nn::ConvConfig { stride: 2, ..nn::ConvConfig::default() }))
        .add_fn(move |x| pool(&x.relu()))
        .add(fire(&(p / "f2"), 64, 16, 64))
        .add(fire(&(p / "f3"), 128, 16, 64))
        .add_fn(pool)
        .add(fire(&(p / "f4"), 128, 32, 128))
        .add(fire(&(p / "f5"), 256, 32, 128))
        .add_fn(pool)
        .add(fire(&(p / "f6"), 256, 48, 192))
        .add(fire(&(p / "f7"), 384, 48, 192))
        .add(fire(&(p / "f8"), 384, 64, 256))
        .add(fire(&(p / "f9"), 512, 64, 256))
        .add(nn::conv2d(p / "classifier", 512, 100, 1, nn::ConvConfig::default()))
        .add_fn(|x| x.relu().adaptive_avg_pool2d([1, 1]).flatten(1, -1))
}

/// Traces the three models into `dir` (those not there yet) and writes a manifest of them;
/// returns the manifest's path.
///
/// # Panics
/// When tracing or writing fails: the bench has nothing to measure then.
pub fn write(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("a folder for the traced models");
    let mut manifest = String::from("# Traced by benches/predict/outside_nets.rs.\n");
    for (name, input) in MODELS {
        let file = dir.join(format!("{name}.pt"));
        if !file.exists() {
            tch::manual_seed(0);
            let mut vs = nn::VarStore::new(Device::Cpu);
            let root = vs.root();
            let side = input[1];
            let net: Box<dyn Fn(&Tensor) -> Tensor> = match name.split('@').next() {
                Some("resnet18") => {
                    let net = resnet18(&root);
                    Box::new(move |x| net.forward_t(x, false))
                }
                Some("vgg11bn") => {
                    let net = vgg11_bn(&root, side);
                    Box::new(move |x| net.forward_t(x, false))
                }
                _ => {
                    let net = squeezenet11(&root);
                    Box::new(move |x| net.forward(x))
                }
            };
            // Weights that need no gradient are traced as the module's constants.
            vs.freeze();
            let _no_grad = tch::no_grad_guard();
            let example = Tensor::randn([1, input[0], input[1], input[2]], (Kind::Float, Device::Cpu));
            // The module's name becomes a class name in the file: an identifier.
            let class = name.replace('@', "_at_");
            let traced = CModule::create_by_tracing(&class, "forward", &[example], &mut |xs| vec![net(&xs[0])])
                .expect("tracing");
            traced.save(&file).expect("saving the traced model");
        }
        let [c, h, w] = input;
        let _ =
            write!(manifest, "\n[[model]]\nname = \"{name}\"\ntorchscript = \"{name}.pt\"\ninput = [{c}, {h}, {w}]\n");
    }
    let path = dir.join("outside-traced.toml");
    std::fs::write(&path, manifest).expect("the traced models' manifest");
    path
}
