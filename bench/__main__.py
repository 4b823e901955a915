"""`make bench`: every benchmark, one after another. Each prints its figures and its ratios
against a baseline measured in the same run. Benchmarks never run in the test suite."""

from __future__ import annotations

from bench import anchor_bench, core_bench, drivers_bench, emulator_get, emulator_rate, many_jobs


def main() -> None:
    for title, run in (
        ("core: build + parse, against json.loads; polling", core_bench.main),
        ("clients against relationalai 1.37.0 and bare HTTP", lambda: anchor_bench.main([])),
        ("drivers: get round trips, against bare httpcore", drivers_bench.main),
        ("emulator: get throughput", lambda: emulator_get.main([])),
        ("emulator: keep-alive rate, against a bare responder", lambda: emulator_rate.main([])),
        ("many jobs: wait_all / as_completed against separate waits, peak RSS", many_jobs.main),
    ):
        print(f"\n=== {title} ===", flush=True)
        run()


if __name__ == "__main__":
    main()
