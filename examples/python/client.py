#!/usr/bin/env python3
"""A small qlink-facade client: create an order, watch it ship, stream inventory.

Against demo mode (`qlink-facade` with no configuration) it:

  1. lists the warehouses and logistics channels of the order tenant,
  2. creates an order for SIM-SKU-00001,
  3. polls GetOrders until the order is ORDER_STATUS_SUCCESS with a tracking
     number (the simulator ships ~2 s after creation),
  4. streams SyncInventory (server streaming) and checks the pages: more than
     one, numbered 1, 2, 3…, is_last_page set on the last page only.

Exits 0 when every check holds, 1 when one fails, 2 when the server cannot be
reached. Stubs come from generate.sh (in gen/ next to this file).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "gen"))

try:
    import grpc
    from qlink.v1 import common_pb2
    from qlink.v1 import inventory_pb2, inventory_pb2_grpc
    from qlink.v1 import order_pb2, order_pb2_grpc
    from qlink.v1 import warehouse_pb2, warehouse_pb2_grpc
except ImportError as err:  # pragma: no cover - set-up problem
    sys.exit(
        f"cannot import the generated stubs ({err}); run "
        "`bash examples/python/generate.sh` after "
        "`pip install -r examples/python/requirements.txt`"
    )


class CheckFailed(Exception):
    """A check against the server's answers did not hold."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def metadata(tenant: str) -> list[tuple[str, str]]:
    return [("x-tenant-id", tenant)]


def wait_until_ready(channel: grpc.Channel, tenant: str, timeout: float) -> None:
    """Retries ListWarehouses until it answers or `timeout` seconds pass."""
    stub = warehouse_pb2_grpc.WarehouseServiceStub(channel)
    deadline = time.monotonic() + timeout
    while True:
        try:
            stub.ListWarehouses(
                warehouse_pb2.ListWarehousesRequest(),
                metadata=metadata(tenant),
                timeout=5,
                wait_for_ready=True,
            )
            return
        except grpc.RpcError as err:
            if time.monotonic() >= deadline:
                raise
            if err.code() not in (
                grpc.StatusCode.UNAVAILABLE,
                grpc.StatusCode.DEADLINE_EXCEEDED,
            ):
                raise
            time.sleep(0.5)


def order_flow(channel: grpc.Channel, args: argparse.Namespace) -> None:
    md = metadata(args.order_tenant)
    warehouses = warehouse_pb2_grpc.WarehouseServiceStub(channel)
    orders = order_pb2_grpc.OrderServiceStub(channel)

    listed = warehouses.ListWarehouses(
        warehouse_pb2.ListWarehousesRequest(), metadata=md, timeout=args.rpc_timeout
    )
    codes = [w.code for w in listed.warehouses]
    print(f"[{args.order_tenant}] warehouses: {', '.join(codes) or '(none)'}")
    check(
        args.order_warehouse in codes,
        f"warehouse {args.order_warehouse} not listed for {args.order_tenant}: {codes}",
    )

    channels = warehouses.ListChannels(
        warehouse_pb2.ListChannelsRequest(warehouse_code=args.order_warehouse),
        metadata=md,
        timeout=args.rpc_timeout,
    ).channels
    check(len(channels) > 0, f"no logistics channels for {args.order_warehouse}")
    logistics = channels[0]
    print(
        f"[{args.order_tenant}] {args.order_warehouse} channels: "
        f"{', '.join(c.code for c in channels)} (using {logistics.code})"
    )

    # Order numbers are unique per tenant, so make one up per run.
    order_number = f"PY-{time.strftime('%Y%m%d%H%M%S')}-{uuid.uuid4().hex[:6].upper()}"
    request = order_pb2.CreateOrderRequest(
        order_number=order_number,
        online_order_id=f"PO-{order_number}",
        shop_name="Python example shop",
        warehouse_code=args.order_warehouse,
        logistics_code=logistics.code,
        platform="SHEIN",
        freight="12.50",
        receiver=order_pb2.Receiver(
            name="Kimberly White",
            phone="1889838055188",
            country="US",
            state="AR",
            city="Harrison",
            address1="1 Test Street",
            postal_code="72601",
        ),
        items=[
            order_pb2.OrderItem(
                sku=args.sku,
                erp_sku="ERP-1",
                name="Side table",
                quantity=2,
                amount="120.00",
            )
        ],
    )
    created = orders.CreateOrder(request, metadata=md, timeout=args.rpc_timeout)
    check(
        created.order_number == order_number,
        f"CreateOrder echoed {created.order_number!r}, expected {order_number!r}",
    )
    print(
        f"[{args.order_tenant}] created order {order_number} "
        f"(warehouse order number {created.warehouse_order_number or '-'})"
    )

    started = time.monotonic()
    last_status = None
    while True:
        answer = orders.GetOrders(
            order_pb2.GetOrdersRequest(
                warehouse_code=args.order_warehouse,
                orders=[order_pb2.OrderRef(order_number=order_number)],
            ),
            metadata=md,
            timeout=args.rpc_timeout,
        )
        check(
            len(answer.orders) == 1,
            f"GetOrders returned {len(answer.orders)} orders, expected 1",
        )
        info = answer.orders[0]
        check(not info.error_message, f"GetOrders error for {order_number}: {info.error_message}")
        check(
            info.order_number == order_number,
            f"GetOrders answered about {info.order_number!r}, expected {order_number!r}",
        )
        status = common_pb2.OrderStatus.Name(info.status)
        elapsed = time.monotonic() - started
        if status != last_status:
            print(
                f"[{args.order_tenant}]   {elapsed:4.1f}s  {status} "
                f"(warehouse status {info.wms_status or '-'})"
            )
            last_status = status
        check(
            info.status
            not in (common_pb2.ORDER_STATUS_FAILED, common_pb2.ORDER_STATUS_CANCEL),
            f"order {order_number} ended {status}: {info.failed_reason or info.wms_status}",
        )
        if info.status == common_pb2.ORDER_STATUS_SUCCESS:
            check(bool(info.tracking_number), f"order {order_number} shipped without a tracking number")
            print(
                f"[{args.order_tenant}] shipped after {elapsed:.1f}s: "
                f"carrier {info.carrier_name or '-'}, tracking {info.tracking_number}"
            )
            return
        check(
            elapsed < args.ship_timeout,
            f"order {order_number} not shipped within {args.ship_timeout:g}s (last status {status})",
        )
        time.sleep(0.5)


def inventory_flow(channel: grpc.Channel, args: argparse.Namespace) -> None:
    inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
    stream = inventory.SyncInventory(
        inventory_pb2.SyncInventoryRequest(
            warehouse_code=args.inventory_warehouse, page_size=args.page_size
        ),
        metadata=metadata(args.inventory_tenant),
        timeout=args.stream_timeout,
    )
    pages = []
    items = 0
    skus = set()
    for page in stream:
        pages.append((page.page, page.page_count, page.is_last_page, len(page.items)))
        items += len(page.items)
        for item in page.items:
            skus.add(item.sku)
            check(
                item.warehouse_code in ("", args.inventory_warehouse),
                f"item {item.sku} is in warehouse {item.warehouse_code}, "
                f"asked for {args.inventory_warehouse}",
            )
        print(
            f"[{args.inventory_tenant}]   page {page.page}/{page.page_count or '?'}: "
            f"{len(page.items)} items{' (last page)' if page.is_last_page else ''}"
        )

    check(len(pages) > 1, f"inventory stream yielded {len(pages)} page(s), expected more than one")
    last_flags = [is_last for (_, _, is_last, _) in pages]
    check(last_flags[-1], "the last inventory page does not have is_last_page set")
    check(
        not any(last_flags[:-1]),
        "is_last_page set before the last page: "
        + ", ".join(str(number) for (number, _, is_last, _) in pages[:-1] if is_last),
    )
    numbers = [number for (number, _, _, _) in pages]
    check(
        numbers == list(range(1, len(pages) + 1)),
        f"inventory pages numbered {numbers}, expected 1..{len(pages)}",
    )
    check(
        all(count <= args.page_size for (_, _, _, count) in pages),
        f"a page holds more than page_size={args.page_size} items",
    )
    check(args.sku in skus, f"{args.sku} missing from {args.inventory_warehouse} inventory")
    print(
        f"[{args.inventory_tenant}] inventory of {args.inventory_warehouse}: "
        f"{len(pages)} pages, {items} items, {len(skus)} distinct SKUs"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", default="127.0.0.1:50051", help="gRPC address (host:port)")
    parser.add_argument("--order-tenant", default="demo-qlink")
    parser.add_argument("--order-warehouse", default="TU01")
    parser.add_argument("--inventory-tenant", default="demo-qianyi")
    parser.add_argument("--inventory-warehouse", default="CA1")
    parser.add_argument("--sku", default="SIM-SKU-00001", help="SKU to order; must be in stock")
    parser.add_argument("--page-size", type=int, default=100, help="SyncInventory page size")
    parser.add_argument("--ship-timeout", type=float, default=15.0, help="seconds to wait for shipping")
    parser.add_argument("--rpc-timeout", type=float, default=10.0, help="deadline of unary calls")
    parser.add_argument("--stream-timeout", type=float, default=60.0, help="deadline of the inventory stream")
    parser.add_argument(
        "--wait-ready",
        type=float,
        default=0.0,
        metavar="SECS",
        help="first wait up to SECS for the server to answer",
    )
    parser.add_argument(
        "--ready-only",
        action="store_true",
        help="only wait for the server (see --wait-ready), run no checks",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with grpc.insecure_channel(args.target) as channel:
        try:
            if args.wait_ready > 0 or args.ready_only:
                wait_until_ready(channel, args.order_tenant, max(args.wait_ready, 1.0))
                if args.ready_only:
                    return 0
            print(f"qlink-facade at {args.target}")
            order_flow(channel, args)
            inventory_flow(channel, args)
        except CheckFailed as err:
            print(f"FAIL: {err}", file=sys.stderr)
            return 1
        except grpc.RpcError as err:
            code = err.code()
            print(
                f"FAIL: gRPC call failed: {code.name if code else '?'}: {err.details()}",
                file=sys.stderr,
            )
            return 2 if code == grpc.StatusCode.UNAVAILABLE else 1
    print("OK: order shipped with a tracking number; inventory streamed in pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
