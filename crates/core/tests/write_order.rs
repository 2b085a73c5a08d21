//! The Mover against simulated miners that run the firmware's power loop: no write may let the
//! clock run ahead of the voltage, on any firmware generation.

use std::time::Duration;

use bitaxe_core::safety::{Envelope, Settings};
use bitaxe_core::transition::{plan_steps, Mover, Outcome, Pacing};
use bitaxe_sim::{MinerSpec, Personality, SimMiner};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

async fn sim(personality: Personality, at: Settings) -> SimMiner {
    let mut spec = MinerSpec::new("order", "127.0.0.1:0".parse().expect("addr"));
    spec.personality = personality;
    spec.speed = 20.0;
    let m = SimMiner::start(spec).await.expect("sim");
    m.update(|s| {
        s.nvs.core_voltage = at.voltage;
        s.nvs.frequency = at.frequency;
    });
    // Let the power loop take the starting point.
    tokio::time::sleep(Duration::from_millis(300)).await;
    m
}

fn pacing() -> Pacing {
    Pacing {
        step_delay: Duration::from_millis(20),
        retry_attempts: 1,
        retry_delay: Duration::from_millis(20),
        max_writes: u32::MAX,
    }
}

async fn move_once(m: &SimMiner, from: Settings, to: Settings, steps: u32) -> Outcome {
    let env = Envelope::new(1000, 1300, 50.0, 800.0);
    let http = axeos::Http::default();
    let client = axeos::Client::new(&http, &m.url()).expect("client");
    let (bus, _) = broadcast::channel(64);
    let cancel = CancellationToken::new();
    let mover = Mover {
        client: &client,
        miner: "order",
        bus: &bus,
        cancel: &cancel,
        pacing: pacing(),
    };
    let path = plan_steps(from, env.clamp(to), steps, &env);
    mover.run(from, &path, &|_| None, &mut || None).await
}

/// Down in one step (an emergency), then up in one step, on every firmware generation at once.
#[tokio::test]
async fn no_brownout_down_or_up_on_any_firmware() {
    let high = Settings::new(1250, 600.0);
    let low = Settings::new(1150, 550.0);
    let run = |p: Personality| async move {
        let m = sim(p, high).await;
        let down = move_once(&m, high, low, 1).await;
        assert_eq!(down, Outcome::Done(low), "{p:?} down");
        let up = move_once(&m, low, high, 1).await;
        assert_eq!(up, Outcome::Done(high), "{p:?} up");
        let s = m.state();
        assert_eq!(
            s.brownouts,
            0,
            "{p:?}: {:#?} (patches {:?})",
            s.brownout_log,
            m.patches()
        );
    };
    tokio::join!(
        run(Personality::V2_10),
        run(Personality::V2_12),
        run(Personality::V2_14)
    );
}

/// On v2.14+ the voltage is lowered only once `actualFrequency` shows the lower clock.
#[tokio::test]
async fn voltage_waits_for_the_reported_clock_on_new_firmware() {
    let high = Settings::new(1250, 600.0);
    let low = Settings::new(1100, 450.0);
    let m = sim(Personality::V2_14, high).await;
    let started = std::time::Instant::now();
    assert_eq!(move_once(&m, high, low, 3).await, Outcome::Done(low));
    // Three ramps of 50 MHz at 20x: fast, not one full old-firmware pass per step.
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let s = m.state();
    assert_eq!(s.brownouts, 0, "{:#?}", s.brownout_log);
    let requests = m.requests();
    let patches: Vec<_> = requests.iter().filter(|r| r.method == "PATCH").collect();
    assert_eq!(patches.len(), 6, "{patches:?}");
    for pair in patches.chunks(2) {
        assert!(pair[0].body.contains("frequency"), "{pair:?}");
        assert!(pair[1].body.contains("coreVoltage"), "{pair:?}");
    }
}
