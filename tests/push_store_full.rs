//! A push store that cannot be written: the push is refused with 503 so the
//! warehouse sends it again, nothing half-kept is delivered, and the resent
//! push is kept once, also across a restart.
//!
//! The write is made to fail for real by lowering this process's file-size
//! limit (RLIMIT_FSIZE) below the journal's next line, which holds for root
//! too. The limit is process-wide, so this test has a binary of its own.

#![cfg(target_os = "linux")]

mod common;

use std::path::Path;

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

fn journal_len(store: &Path) -> u64 {
    std::fs::metadata(store.join("orders.jsonl"))
        .map(|meta| meta.len())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_push_the_store_cannot_keep_is_refused_and_kept_once_when_sent_again() {
    let store = scratch_store("push-store-full");
    let (_simulator, config) = demo_with_push_store(&store).await;
    let facade = spawn_facade(config.clone()).await;
    let second = ORDER_PUSH.replace("DA250117100074", "DA-SECOND");

    let (status, _) = push_order(&facade, ORDER_PUSH).await;
    assert_eq!(status, 200);

    // Room for a few bytes of the next line only: it is cut mid-write.
    let kept_len = journal_len(&store);
    assert!(kept_len > 0, "the first push is in the journal");
    let previous = set_file_size_limit(kept_len + 10);
    let (status, answer) = push_order(&facade, &second).await;
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
        journal_len(&store),
        kept_len + 10,
        "the failed line was cut where the limit stopped it"
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

    // After a restart the journal, cut line and all, gives back exactly
    // those two, with their ids.
    drop(facade);
    wait_until_released(&store).await;
    let restarted = spawn_facade(config).await;
    assert_eq!(watched_orders(&restarted).await, both);
    drop(restarted);
    let _ = std::fs::remove_dir_all(&store);
}
