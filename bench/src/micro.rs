//! The per-call pieces, each timed alone on one thread in a loop, with the
//! heap allocations of one call: signing, converting and encoding an
//! order, reading an inventory page, the facade's own layers.

use std::{sync::Arc, time::Duration};

use bytes::Bytes;
use qlink_facade::domain::NewOrder;
use warehouse_protocol::{Envelope, sign::qlink_sign};

use crate::{
    floor::{APP_KEY, APP_SECRET, encode_order},
    scenarios::{Bench, ORDER_ITEMS, QLINK_TENANT},
    upstream::MAIN_WAREHOUSE,
};

/// The per-call costs both paths share or the facade adds, timed alone on
/// one thread: nanoseconds per operation.
/// Per piece: its name, nanoseconds per call and allocations per call.
pub fn micro(bench: &Bench, budget: Duration) -> Vec<(String, f64, u64)> {
    use std::hint::black_box;

    let order = bench.order();
    let body = bench.create_order_body();
    let body_text = String::from_utf8_lossy(&body).into_owned();
    let page = crate::upstream::inventory_page(MAIN_WAREHOUSE, 10_000, 1, 100);
    let mut results = Vec::new();
    let mut time = |name: String, f: &mut dyn FnMut()| {
        let (nanos, allocations) = nanos_per_op(budget, f);
        results.push((name, nanos, allocations));
    };
    time(
        format!("qlink_sign over the {}-byte createOrder body", body.len()),
        &mut || {
            black_box(qlink_sign(
                black_box(APP_KEY),
                black_box(&body_text),
                black_box(APP_SECRET),
            ));
        },
    );
    time(
        format!("clone of the {ORDER_ITEMS}-item CreateOrderRequest (baseline of the next)"),
        &mut || {
            black_box(black_box(order).clone());
        },
    );
    time(
        format!("NewOrder::try_from(CreateOrderRequest), {ORDER_ITEMS} items, clone included"),
        &mut || {
            let _ = black_box(NewOrder::try_from(black_box(order).clone()));
        },
    );
    if let Ok(new_order) = NewOrder::try_from(order.clone()) {
        time(
            format!(
                "fingerprint of the {ORDER_ITEMS}-item NewOrder (exactly-once writes: every CreateOrder, repeats included)"
            ),
            &mut || {
                black_box(qlink_facade::domain::fingerprint::fingerprint(black_box(
                    &new_order,
                )));
            },
        );
    }
    time(
        format!(
            "createOrder body of the {ORDER_ITEMS}-item order encoded with serde_json and signed with qlink_sign, as the facade and the CreateOrderEncoding floor do"
        ),
        &mut || {
            if let Ok(body) = encode_order(black_box(order)) {
                black_box(qlink_sign(APP_KEY, &body, APP_SECRET));
            }
        },
    );
    time(
        format!(
            "Envelope::parse of one 100-SKU inventory page ({} KiB JSON)",
            page.len() / 1024
        ),
        &mut || {
            let _ = black_box(Envelope::parse(black_box(page.as_bytes())));
        },
    );
    let mut layers = call_layers();
    // No subscriber even under --telemetry, which installs a global one.
    tracing::dispatcher::with_default(&tracing::Dispatch::none(), || {
        time(
            "call layer + attempt layer around services that answer at once, no subscriber"
                .to_owned(),
            &mut || layers(),
        );
    });
    let telemetry = qlink_facade::telemetry::Telemetry::new(&Default::default());
    tracing::dispatcher::with_default(&telemetry.dispatch, || {
        time(
            "the same under the production subscriber without an exporter (info: two spans, no OpenTelemetry layer)"
                .to_owned(),
            &mut || layers(),
        );
    });
    results
}

/// One unary call's trip through the facade's own layers, with a caller's
/// `traceparent`: the gRPC call layer (span, trace context, request metrics)
/// around an attempt layer (span, `traceparent` injection, attempt metrics),
/// the inner services answering at once. Runs on the current thread.
fn call_layers() -> impl FnMut() {
    use qlink_facade::{
        metrics::Metrics,
        middleware::{UpstreamCall, attempt, grpc::GrpcCallLayer},
        upstream::UpstreamErrorKind,
    };
    use tower::{Layer, ServiceExt, service_fn};

    let metrics = Metrics::shared();
    let answer = service_fn(|call: UpstreamCall| {
        std::future::ready(Ok::<_, UpstreamErrorKind>(Bytes::from(
            call.body.len().to_string(),
        )))
    });
    let attempt = attempt::record(answer, metrics.clone());
    let upstream_call = UpstreamCall {
        tenant: Arc::from(QLINK_TENANT),
        deadline: tokio::time::Instant::now() + Duration::from_secs(3600),
        span: tracing::Span::none(),
        operation: "initWarehouses",
        attempt: 1,
        url: "http://127.0.0.1:9/initWarehouses"
            .parse()
            .expect("static URL"),
        headers: Default::default(),
        body: Bytes::from_static(b"{}"),
        access: warehouse_protocol::Access::Read,
    };
    let grpc = GrpcCallLayer::new(
        metrics,
        qlink_facade::tenant::Tenants::new(Default::default()),
        qlink_facade::server::served_rpcs(),
    )
    .layer(service_fn(move |_: http::Request<()>| {
        // As a handler's CallContext carries it: the call's span.
        let call = UpstreamCall {
            span: tracing::Span::current(),
            ..upstream_call.clone()
        };
        let attempt = attempt.clone().oneshot(call);
        async move {
            let _ = attempt.await;
            Ok::<_, std::convert::Infallible>(http::Response::new(()))
        }
    }));
    move || {
        let request = http::Request::builder()
            .uri("/qlink.v1.WarehouseService/ListWarehouses")
            .header("x-tenant-id", QLINK_TENANT)
            .header(
                "traceparent",
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            )
            .body(())
            .unwrap_or_default();
        let _ = std::hint::black_box(futures::executor::block_on(grpc.clone().oneshot(request)));
    }
}

/// Runs `f` in batches until `budget` has passed; nanoseconds per call.
/// Nanoseconds per call of `f`, and the heap allocations of one call.
fn nanos_per_op(budget: Duration, f: &mut dyn FnMut()) -> (f64, u64) {
    // Warm caches and the allocator first.
    for _ in 0..16 {
        f();
    }
    let ((), counts) = crate::alloc::count(&mut *f);
    let started = std::time::Instant::now();
    let mut runs = 0u64;
    while started.elapsed() < budget {
        for _ in 0..64 {
            f();
        }
        runs += 64;
    }
    (
        started.elapsed().as_nanos() as f64 / runs as f64,
        counts.all_allocations(),
    )
}
