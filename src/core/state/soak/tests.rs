use super::*;
use crate::core::machine::{sample::SystemSample, sysfs::TempReading};
use crate::core::run::event::Inference;

fn sample(at_ms: u64, celsius: Option<f64>) -> Event {
    let temps = celsius.map(|c| vec![TempReading { name: "cpu-thermal".into(), celsius: c }]).unwrap_or_default();
    Event::System(SystemSample { at_ms, temps, ..SystemSample::default() })
}

fn inference(model: ModelId, at_ms: u64, ms: f64) -> Event {
    Event::Inference(Inference {
        model,
        seq: at_ms,
        wall_ns: (ms * 1e6) as u64,
        at_ns: at_ms * 1_000_000,
        profiled: false,
        cold: false,
        usage: None,
        ops: Vec::new(),
    })
}

/// A soak whose engine has measured the machine's limits: inferences from now on count.
fn started(config: SoakConfig) -> Soak {
    let mut soak = Soak::new(config);
    soak.observe(&Event::Bandwidth { gb_per_s: 10.0 });
    soak
}

#[test]
fn the_cold_phase_waits_for_the_machines_limits() {
    let mut soak = Soak::new(config());
    // The first inference, then the engine measures the limits for seconds: no phase yet.
    soak.observe(&inference(0, 0, 10.0));
    soak.observe(&sample(6000, Some(50.0)));
    assert_eq!((soak.phase, soak.cold_at_ms), (SoakPhase::Starting, None));
    soak.observe(&Event::Peak { gmacs_per_s: 1.0 });
    soak.observe(&Event::Bandwidth { gb_per_s: 10.0 });
    soak.observe(&inference(0, 7000, 10.0));
    assert_eq!((soak.phase, soak.cold_at_ms), (SoakPhase::Cold, Some(7000)));
}

fn config() -> SoakConfig {
    SoakConfig {
        phase: Duration::from_secs(5),
        window: Duration::from_secs(10),
        band_c: 0.5,
        max: Duration::from_secs(100),
    }
}

/// A board warming a degree a second from 50 °C and holding 70 °C from 20 s; the model takes
/// 10 ms below 65 °C and 14 ms above.
fn warming_board(soak: &mut Soak, until_ms: u64, with_sensor: bool) {
    for t in (0..=until_ms).step_by(500) {
        let celsius = (50.0 + t as f64 / 1000.0).min(70.0);
        if t % 1000 == 0 {
            soak.observe(&sample(t, with_sensor.then_some(celsius)));
        }
        soak.observe(&inference(0, t, if celsius < 65.0 { 10.0 } else { 14.0 }));
        if soak.done() {
            return;
        }
    }
}

#[test]
fn a_soak_measures_cold_heats_to_a_plateau_and_measures_hot() {
    let mut soak = started(config());
    warming_board(&mut soak, 60_000, true);
    assert!(soak.done());
    // Cold from the first inference (0 s) for 5 s; heating from there; the temperature is flat
    // from 20 s, and the window of 10 s is flat from 30 s; hot 30-35 s.
    assert_eq!(
        (soak.cold_at_ms, soak.heating_at_ms, soak.hot_at_ms, soak.done_at_ms),
        (Some(0), Some(5000), Some(30_000), Some(35_000))
    );
    assert_eq!(soak.heating_end, Some(HeatingEnd::Plateau));
    assert_eq!(soak.plateau_c, Some(70.0));
    assert_eq!(soak.max_c, Some(70.0));
    let m = soak.model(0);
    // Cold: the inferences at 0, 0.5, ... 4.5 s (10 of them; the one at 5 s is heating).
    assert_eq!((m.cold.count, m.cold.p50_ms), (10, Some(10.0)));
    assert_eq!((m.hot.count, m.hot.p50_ms), (10, Some(14.0)));
    assert!((m.slowdown().unwrap() - 0.4).abs() < 1e-12);
    assert_eq!(soak.model(3), SoakModel::default(), "a model never timed has no figures");
}

#[test]
fn without_a_sensor_the_hot_phase_is_the_last_of_the_longest_soak() {
    let mut soak = started(config());
    warming_board(&mut soak, 200_000, false);
    assert!(soak.done());
    assert_eq!(soak.heating_end, Some(HeatingEnd::TimeUp));
    // max 100 s from the session's start, the last 5 s of it hot.
    assert_eq!((soak.hot_at_ms, soak.done_at_ms), (Some(95_000), Some(100_000)));
    assert_eq!((soak.plateau_c, soak.max_c), (None, None));
}

#[test]
fn a_board_still_warming_has_no_plateau() {
    let mut soak = started(SoakConfig { max: Duration::from_secs(1000), ..config() });
    // 1 °C a second for 19 s after the cold phase: never flat over 10 s.
    for t in (0..=19_000).step_by(1000) {
        soak.observe(&sample(t, Some(50.0 + t as f64 / 1000.0)));
        soak.observe(&inference(0, t, 10.0));
    }
    assert_eq!(soak.phase, SoakPhase::Heating);
}

#[test]
fn profiled_and_cold_inferences_are_left_out() {
    let mut soak = started(config());
    soak.observe(&inference(0, 0, 10.0));
    let Event::Inference(mut profiled) = inference(0, 100, 99.0) else { unreachable!() };
    profiled.profiled = true;
    soak.observe(&Event::Inference(profiled.clone()));
    profiled.profiled = false;
    profiled.cold = true;
    soak.observe(&Event::Inference(profiled));
    assert_eq!(soak.model(0).cold.count, 1);
}
