//! The client against the simulator: redirects refused, identity read.

use axeos::{Client, Error, Http, SettingsPatch};
use bitaxe_sim::{fleet, Faults, Personality, SimMiner};

async fn one(personality: Personality) -> SimMiner {
    let mut miners = fleet("axeos", 1, |s| s.personality = personality)
        .await
        .expect("start");
    miners.remove(0)
}

fn client(m: &SimMiner) -> Client {
    Client::new(&Http::default(), &m.url()).expect("client")
}

#[tokio::test]
async fn a_redirect_is_refused_and_named_never_followed() {
    let m = one(Personality::V2_14).await;
    m.set_faults(Faults {
        redirect: true,
        ..Default::default()
    });
    let c = client(&m);
    let err = c.info().await.expect_err("307");
    match &err {
        Error::Redirected {
            status, location, ..
        } => {
            assert_eq!(*status, 307);
            assert_eq!(location.as_deref(), Some("/"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.code(), "redirected");
    let text = err.to_string();
    assert!(
        text.contains("307") && text.contains("redirect to /"),
        "{text}"
    );
    let patch = SettingsPatch {
        frequency: Some(600.0),
        ..Default::default()
    };
    assert!(matches!(
        c.patch(&patch).await,
        Err(Error::Redirected { status: 307, .. })
    ));
    let paths: Vec<String> = m.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(
        paths,
        ["/api/system/info", "/api/system"],
        "the Location (/) was never requested"
    );
    assert_eq!(m.state().nvs.frequency, 525.0);
}

#[tokio::test]
async fn an_old_firmware_302_is_a_redirect_error_too() {
    let m = one(Personality::V2_6).await;
    let err = client(&m)
        .asic()
        .await
        .expect_err("302 to the captive portal");
    assert!(
        matches!(&err, Error::Redirected { status: 302, location: Some(l), .. } if l == "/"),
        "{err:?}"
    );
}

#[tokio::test]
async fn identity_is_read_mac_model_board_firmware() {
    for p in [Personality::V2_6, Personality::V2_12, Personality::V2_14] {
        let m = one(p).await;
        let info = client(&m).info().await.expect("info");
        assert_eq!(info.mac_addr.as_deref(), Some(m.mac().as_str()), "{p:?}");
        assert_eq!(info.asic_model.as_deref(), Some("BM1370"));
        assert_eq!(info.board_version.as_deref(), Some("601"));
        assert_eq!(info.version.as_deref(), Some(p.version()));
    }
    let m = one(Personality::V2_14).await;
    m.update(|s| s.mac = Some("aa-bb-cc-dd-ee-0f".into()));
    let info = client(&m).info().await.expect("info");
    assert_eq!(info.mac_addr.as_deref(), Some("AA:BB:CC:DD:EE:0F"));
}

#[tokio::test]
async fn pause_and_resume_on_v2_14_show_in_info() {
    let m = one(Personality::V2_14).await;
    let c = client(&m);
    assert_eq!(c.info().await.expect("info").mining_paused, Some(false));
    c.pause().await.expect("pause");
    let paused = c.info().await.expect("info");
    assert_eq!(paused.mining_paused, Some(true));
    assert_eq!(paused.hash_rate, Some(0.0));
    c.resume().await.expect("resume");
    assert_eq!(c.info().await.expect("info").mining_paused, Some(false));
}

#[tokio::test]
async fn pause_on_older_firmware_is_a_typed_unsupported_error() {
    // v2.10/v2.12 answer 404; v2.6 redirects unknown routes to the captive portal.
    for p in [Personality::V2_12, Personality::V2_10, Personality::V2_6] {
        let m = one(p).await;
        let c = client(&m);
        for (what, result) in [("pause", c.pause().await), ("resume", c.resume().await)] {
            let err = result.expect_err("no such route");
            assert!(err.is_unsupported(), "{p:?} {what}: {err:?}");
            assert_eq!(err.code(), "unsupported");
            assert!(err.to_string().contains(&format!("cannot {what}")), "{err}");
        }
        assert!(m.state().mining(), "{p:?} still mining");
    }
}
