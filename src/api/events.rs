//! The `Watch*Events` streams: the kept events after the caller's cursor,
//! then each new one as it is pushed. A spawned follower writes into a small
//! bounded channel and stops when the caller goes away.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::{
    proto,
    push::{AsnEvent, Event, EventLog, OrderEvent, TenantEvents},
};

/// Events converted but not yet taken by the caller.
const EVENTS_IN_FLIGHT: usize = 16;
/// Events read from the log at a time.
const READ_BATCH: usize = 64;

/// Follows one of a tenant's logs from `after`.
pub fn follow<T, M>(
    events: Arc<TenantEvents>,
    log: fn(&TenantEvents) -> &EventLog<T>,
    after: u64,
    convert: fn(&Event<T>) -> M,
) -> ReceiverStream<Result<M, Status>>
where
    T: Send + Sync + 'static,
    M: Send + 'static,
{
    let (sender, receiver) = mpsc::channel(EVENTS_IN_FLIGHT);
    tokio::spawn(async move {
        let log = log(&events);
        let mut changes = log.subscribe();
        let mut cursor = after;
        loop {
            changes.borrow_and_update();
            let batch = log.after(cursor, READ_BATCH);
            if batch.is_empty() {
                tokio::select! {
                    changed = changes.changed() => if changed.is_err() { return },
                    () = sender.closed() => return,
                }
                continue;
            }
            for event in batch {
                cursor = event.id;
                if sender.send(Ok(convert(&event))).await.is_err() {
                    return;
                }
            }
        }
    });
    ReceiverStream::new(receiver)
}

fn timestamp_ms(ms: Option<i64>) -> Option<prost_types::Timestamp> {
    let ms = ms?;
    Some(prost_types::Timestamp {
        seconds: ms.div_euclid(1000),
        nanos: i32::try_from(ms.rem_euclid(1000) * 1_000_000).unwrap_or(0),
    })
}

pub fn order_event(event: &Event<OrderEvent>) -> proto::WatchOrderEventsResponse {
    let body = &event.body;
    proto::WatchOrderEventsResponse {
        event_id: event.id,
        received_at: Some(event.received_at.into()),
        order_number: body.order_number.clone(),
        online_order_id: body.online_order_id.clone(),
        warehouse_code: body.warehouse_code.clone(),
        customer_code: body.customer_code.clone(),
        carrier: body.carrier.clone(),
        track_number: body.track_number.clone(),
        warehouse_order_number: body.warehouse_order_number.clone(),
        wms_status: body.wms_status.clone(),
        status: body
            .status
            .map_or(proto::OrderStatus::Unspecified, proto::OrderStatus::from)
            .into(),
        shipping_time: timestamp_ms(body.shipping_time_ms),
        items: body
            .items
            .iter()
            .map(|(sku, quantity)| proto::PushedOrderItem {
                sku: sku.clone(),
                quantity: *quantity,
            })
            .collect(),
        error_msg: body.error_msg.clone(),
    }
}

pub fn asn_event(event: &Event<AsnEvent>) -> proto::WatchAsnEventsResponse {
    let body = &event.body;
    proto::WatchAsnEventsResponse {
        event_id: event.id,
        received_at: Some(event.received_at.into()),
        asn_number: body.asn_number.clone(),
        warehouse_code: body.warehouse_code.clone(),
        customer_code: body.customer_code.clone(),
        wms_status: body.wms_status.clone(),
        status: body
            .status
            .map_or(proto::AsnStatus::Unspecified, proto::AsnStatus::from)
            .into(),
        reference_number: body.reference_number.clone(),
        finish_time: timestamp_ms(body.finish_time_ms),
        update_time: timestamp_ms(body.update_time_ms),
        items: body
            .items
            .iter()
            .map(|item| proto::AsnItemReceipt {
                sku: item.sku.clone(),
                name: item.name.clone(),
                estimated_quantity: item.estimated_quantity,
                received_quantity: item.received_quantity,
                good_quantity: item.good_quantity,
                bad_quantity: item.bad_quantity,
            })
            .collect(),
        batch_no: body.batch_no.clone(),
    }
}
