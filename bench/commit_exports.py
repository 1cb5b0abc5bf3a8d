"""Sale commit with three export connectors enabled against none, in the same run.

Each committed sale with connectors also writes its `sale.completed` payload and one export_job per
connector in the same transaction (the outbox). Both sides commit the same kind of 3-line sales on
their own copy of the 100,000-product demo store, in alternating blocks so machine load hits them
alike. Target (issue 5): ratio at most 1.2.
"""

from __future__ import annotations

import time

from _common import fmt_ms, header, load, open_app, percentile, report, work_copy
from commit import BLOCK, SALES, WARMUP, make_sales

def targets():
    from data.outbox import ExportTarget

    events = ("sale.completed", "sale.refunded", "day.closed")
    return (ExportTarget("hq", "webhook", events, True), ExportTarget("bi", "webhook", events, True),
            ExportTarget("audit", "webhook", events, False))


def main() -> int:
    from data.sales import commit_sale

    header(f"commit with 3 connectors vs none: {SALES} sales each, 100,000-product demo db")
    load()
    with_home, without_home = work_copy("exports-with"), work_copy("exports-without")
    e1, p1, c1 = open_app(with_home)
    e0, p0, c0 = open_app(without_home)
    three = targets()
    warm1, warm0 = make_sales(e1, p1, WARMUP, seed=5, prefix="w1"), make_sales(e0, p0, WARMUP, seed=5, prefix="w0")
    s1, s0 = make_sales(e1, p1, SALES, seed=6, prefix="s1"), make_sales(e0, p0, SALES, seed=6, prefix="s0")
    for (cart, _t, pay) in warm1:
        commit_sale(e1, p1, c1, cart, pay, exports=three)
    for (cart, _t, pay) in warm0:
        commit_sale(e0, p0, c0, cart, pay)
    with_t, without_t = [], []
    for start in range(0, SALES, BLOCK):
        for cart, _t, pay in s1[start:start + BLOCK]:
            t = time.perf_counter()
            commit_sale(e1, p1, c1, cart, pay, exports=three)
            with_t.append(time.perf_counter() - t)
        for cart, _t, pay in s0[start:start + BLOCK]:
            t = time.perf_counter()
            commit_sale(e0, p0, c0, cart, pay)
            without_t.append(time.perf_counter() - t)
    with e1.connect() as conn:
        from sqlalchemy import text

        jobs = conn.execute(text("SELECT count(*) FROM export_job")).scalar()
    expected = 3 * (SALES + WARMUP)
    if jobs != expected:
        raise SystemExit(f"expected {expected} export jobs, found {jobs}")
    print(f"  {jobs} export jobs written with the sales")
    a, b = sum(with_t) / len(with_t), sum(without_t) / len(without_t)
    print(f"  3 connectors: mean {fmt_ms(a)}  p99 {fmt_ms(percentile(with_t, 99))}")
    print(f"  none:         mean {fmt_ms(b)}  p99 {fmt_ms(percentile(without_t, 99))}")
    report("sale commit, 3 connectors vs none", fmt_ms(a), fmt_ms(b), a / b, "≤ 1.2×", a / b <= 1.2)
    e1.dispose()
    e0.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
