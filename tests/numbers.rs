//! Numbers in a warehouse's answer that no 64-bit integer holds (`1e30`),
//! through the real server against a small upstream: a stock quantity is a
//! malformed answer, a page count is as good as none. Neither is clamped
//! to 9223372036854775807.

mod common;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use axum::{Router, routing::post};
use common::{config_text::qlink_tenant, *};
use futures::StreamExt;
use qlink_facade::{
    config::Config,
    proto::{SyncInventoryRequest, SyncInventoryResponse},
};
use tonic::{Code, Streaming};

/// A SyncInventory of a qlink tenant against an upstream answering every
/// syncInventory page with `answer`.
struct Synced {
    /// The stream, started.
    stream: Streaming<SyncInventoryResponse>,
    /// The pages asked for upstream.
    pages: Arc<AtomicUsize>,
    _facade: Facade,
}

async fn sync_answered(answer: &'static str) -> Synced {
    let pages = Arc::new(AtomicUsize::new(0));
    let counted = pages.clone();
    let upstream = Router::new().route(
        "/global-api/v1/warehouse/syncInventory",
        post(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async move { answer }
        }),
    );
    let addr = serve_router(upstream).await;
    let toml = qlink_tenant("numbers", &format!("http://{addr}"), ["k", "s", "w"], "");
    let facade = spawn_facade(Config::from_toml(&toml, &|_| None).expect("config")).await;
    let query = SyncInventoryRequest {
        warehouse_code: "W1".to_owned(),
        page_size: 100,
        ..Default::default()
    };
    let stream = facade
        .caller("numbers")
        .inventory(query)
        .await
        .expect("the stream starts");
    Synced {
        stream,
        pages,
        _facade: facade,
    }
}

#[tokio::test]
async fn a_stock_quantity_out_of_range_is_a_malformed_answer_not_a_clamped_count() {
    let Synced { mut stream, .. } = sync_answered(
        r#"{"success":true,"result":[{"warehouseCode":"W1","warehouseSku":"S1","sellableQuantity":1e30,"totalQuantity":"5"}]}"#,
    )
    .await;
    let status = stream
        .next()
        .await
        .expect("one message")
        .expect_err("the page is malformed");
    assert_status(&status, Code::Internal, &["inventory item", "64-bit"]);
    assert!(
        !status.message().contains("9223372036854775807"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn a_page_count_out_of_range_is_no_page_count() {
    // A short page that says nothing else: with the count unread, it is the
    // last. Clamped to i64::MAX, the count would have the pager ask on.
    let Synced {
        mut stream, pages, ..
    } = sync_answered(
        r#"{"success":true,"result":{"pageCount":1e30,"currentPage":1,"data":[{"warehouseCode":"W1","warehouseSku":"S1","sellableQuantity":3,"totalQuantity":5}]}}"#,
    )
    .await;
    let page = stream.next().await.expect("a page").expect("read");
    assert!(page.is_last_page, "{page:?}");
    assert_eq!(page.page_count, 0, "{page:?}");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].sellable, 3);
    assert!(stream.next().await.is_none(), "the stream ends");
    assert_eq!(pages.load(Ordering::SeqCst), 1, "one page was asked for");
}
