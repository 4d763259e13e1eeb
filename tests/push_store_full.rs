//! A store that cannot commit: the push is refused with 503 so the
//! warehouse sends it again, `/readyz` says not ready, nothing half-kept is
//! delivered, and the resent push is kept once, also across a restart.
//!
//! The commit is made to fail for real by lowering this process's file-size
//! limit (RLIMIT_FSIZE) to a few bytes, so SQLite cannot write its log,
//! which holds for root too. The limit is process-wide, so this test has a
//! binary of its own.

#![cfg(target_os = "linux")]

mod common;

use std::time::Duration;

use common::{push::*, *};

/// Sets this process's soft file-size limit; returns the one it replaced.
fn set_file_size_limit(bytes: libc::rlim_t) -> libc::rlim_t {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `limit` is a valid rlimit for getrlimit to fill and
    // setrlimit to read; SIGXFSZ is ignored so a write past the limit
    // fails with EFBIG instead of ending the process.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::getrlimit(libc::RLIMIT_FSIZE, &mut limit), 0);
        let previous = limit.rlim_cur;
        limit.rlim_cur = bytes.min(limit.rlim_max);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0);
        previous
    }
}

#[tokio::test]
async fn a_push_the_store_cannot_keep_is_refused_and_kept_once_when_sent_again() {
    let db = ScratchDb::new("push-store-full");
    let (_simulator, config) = demo_with_store(db.store()).await;
    let facade = spawn_facade(config.clone()).await;
    let second = ORDER_PUSH.replace("DA250117100074", "DA-SECOND");

    let (status, _) = push_order(&facade, ORDER_PUSH).await;
    assert_eq!(status, 200);

    // No file of this process may grow past a few bytes: the commit of the
    // next push cannot be written.
    let previous = set_file_size_limit(16);
    let (status, answer) = push_order(&facade, &second).await;
    let readiness = eventually(Duration::from_secs(10), || async {
        let status = readyz(&facade).await;
        (status == 503).then_some(status)
    })
    .await;
    set_file_size_limit(previous);
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["success"], false);
    assert!(
        answer["errorMsg"]
            .as_str()
            .is_some_and(|text| text.contains("send it again")),
        "{answer}"
    );
    assert_eq!(
        readiness,
        Some(503),
        "not ready while the store takes no commits"
    );
    let first_only = watched_orders(&facade).await;
    assert_eq!(
        first_only
            .iter()
            .map(|(_, n)| n.as_str())
            .collect::<Vec<_>>(),
        ["DA250117100074"],
        "a push that was not kept is not delivered"
    );

    // The warehouse sends it again, and now it is kept: not taken for a
    // repeat of something already kept.
    let (status, answer) = push_order(&facade, &second).await;
    assert_eq!(status, 200, "{answer}");
    let both = watched_orders(&facade).await;
    assert_eq!(
        both.iter().map(|(_, n)| n.as_str()).collect::<Vec<_>>(),
        ["DA250117100074", "DA-SECOND"]
    );
    let ready_again = eventually(Duration::from_secs(10), || async {
        let status = readyz(&facade).await;
        (status == 200).then_some(status)
    })
    .await;
    assert_eq!(ready_again, Some(200), "ready once the store commits again");

    // After a restart on the same file exactly those two are there, with
    // their ids.
    drop(facade);
    let restarted = spawn_facade(config).await;
    assert_eq!(watched_orders(&restarted).await, both);
}

async fn readyz(facade: &Facade) -> u16 {
    reqwest::get(format!("http://{}/readyz", facade.http_addr))
        .await
        .map_or(0, |response| response.status().as_u16())
}
