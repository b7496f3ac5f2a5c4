"""Checks smgcore's Prometheus export with a real parser.

Usage: /usr/bin/python3 check_exposition.py <path to metrics_exposition_main>

Runs the program, then
  1. checks every line against the text format 0.0.4 grammar (the
     prometheus_client parser is lax: it accepts some malformed input), and
  2. parses the text with prometheus_client.parser.text_string_to_metric_families
     and compares every family, type, help text, label value (unescaped) and
     sample value with what metrics_exposition_main.cc wrote.
Exits non-zero with a message on the first difference.
"""

import math
import re
import subprocess
import sys

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError as e:  # Not a skip: the test must fail without its parser.
    sys.exit(f"FAIL: cannot import prometheus_client ({e}); run scripts/install-deps.sh "
             "(installs Debian's python3-prometheus-client) and use /usr/bin/python3")

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'  # only \\, \" and \n escapes
LABEL = f"{LABEL_NAME}={LABEL_VALUE}"
VALUE = r"(?:[+-]Inf|NaN|-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)"
HELP_LINE = re.compile(rf"# HELP ({NAME}) ((?:[^\\\n]|\\[\\n])*)")
TYPE_LINE = re.compile(rf"# TYPE ({NAME}) (counter|gauge|histogram|untyped)")
SAMPLE_LINE = re.compile(rf"({NAME})(?:\{{({LABEL}(?:,{LABEL})*)?\}})? ({VALUE})")

AWKWARD = [
    'say "hi"',
    "back\\slash",
    "two\nlines",
    "trailing\\",
    'a\\"b\\n',
    "café",
    "✓ 🚀 模型",
    "{a=b,c}",
    "",
    "  spaces  ",
]


def fail(message):
    sys.exit(f"FAIL: {message}")


def check_grammar(text):
    """Every line is HELP, TYPE or a sample of the family last TYPEd."""
    if not text.endswith("\n"):
        fail("output does not end with a newline")
    typed = set()
    family, family_type, helped = None, None, set()
    for number, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {number}: {line!r}"
        if m := HELP_LINE.fullmatch(line):
            if m.group(1) in helped or m.group(1) in typed:
                fail(f"{where}: HELP repeated or after TYPE")
            helped.add(m.group(1))
        elif m := TYPE_LINE.fullmatch(line):
            if m.group(1) in typed:
                fail(f"{where}: TYPE repeated")
            typed.add(m.group(1))
            family, family_type = m.group(1), m.group(2)
        elif m := SAMPLE_LINE.fullmatch(line):
            suffixes = ("_bucket", "_sum", "_count") if family_type == "histogram" else ("",)
            if family is None or m.group(1) not in [family + s for s in suffixes]:
                fail(f"{where}: sample outside its family ({family})")
            if m.group(1).endswith("_bucket") and not re.search(rf',?le="{VALUE}"}}', line):
                fail(f"{where}: bucket without a trailing le label")
        else:
            fail(f"{where}: not valid text format 0.0.4")


def same(actual, expected):
    if isinstance(expected, float) and math.isnan(expected):
        return isinstance(actual, float) and math.isnan(actual)
    # -0.0 == 0.0 in Python: compare signs too.
    return actual == expected and math.copysign(1, actual) == math.copysign(1, expected)


def check_family(families, name, typ, documentation, samples):
    """`samples`: {(sample name, ((label, value), ...)): value}, exactly."""
    family = families.pop(name, None)
    if family is None:
        fail(f"family {name} missing")
    if family.type != typ:
        fail(f"family {name}: type {family.type}, want {typ}")
    if family.documentation != documentation:
        fail(f"family {name}: help {family.documentation!r}, want {documentation!r}")
    got = {}
    for s in family.samples:
        key = (s.name, tuple(sorted(s.labels.items())))
        if key in got:
            fail(f"family {name}: duplicate sample {key}")
        got[key] = s.value
    want = {(n, tuple(sorted(labels))): v for (n, labels), v in samples.items()}
    if got.keys() != want.keys():
        fail(f"family {name}: samples {sorted(got)}, want {sorted(want)}")
    for key, value in want.items():
        if not same(got[key], value):
            fail(f"family {name}: {key} = {got[key]!r}, want {value!r}")


def histogram(name, labels, buckets, count, total):
    """Expected samples of one histogram; `buckets`: [(le text, cumulative)]."""
    out = {}
    for le, cumulative in buckets + [("+Inf", count)]:
        out[(name + "_bucket", labels + (("le", le),))] = float(cumulative)
    out[(name + "_sum", labels)] = total
    out[(name + "_count", labels)] = float(count)
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    run = subprocess.run([sys.argv[1]], stdout=subprocess.PIPE, check=False)
    if run.returncode != 0:
        fail(f"{sys.argv[1]} exited with {run.returncode}")
    text = run.stdout.decode("utf-8")  # strict: invalid UTF-8 raises

    check_grammar(text)
    # Integers are written exactly (the parser turns them into floats).
    for line in ("smg_test_large_total 18446744073709551615",
                 "smg_test_gauge{case=\"negative_zero\"} -0",
                 "smg_test_gauge{case=\"fraction\"} 0.1",
                 'smg_route_duration_seconds_bucket{model="llama-3-70b",le="0.001"} 2'):
        if line not in text.split("\n"):
            fail(f"missing line {line!r}")

    families = {}
    for family in text_string_to_metric_families(text):
        if family.name in families:
            fail(f"family {family.name} appears twice")
        families[family.name] = family

    # Owned families come first, sorted by name; then the collectors'.
    order = [f for f in families]
    want_order = ["smg_route_duration_seconds", "smg_test_gauge", "smg_test_label_values",
                  "smg_test_large", "smg_worker_selection", "smg_worker_pool_size",
                  "smg_test_collected_seconds", "smg_test_untyped"]
    if order != want_order:
        fail(f"family order {order}, want {want_order}")

    # The parser names counter families without "_total" (OpenMetrics style).
    check_family(families, "smg_worker_selection", "counter",
                 "Requests routed to a worker, by model and policy.", {
                     ("smg_worker_selection_total",
                      (("worker_type", "regular"), ("connection_mode", "http"),
                       ("model", "llama-3-70b"), ("policy", "cache_aware"))): 42.0,
                     ("smg_worker_selection_total",
                      (("worker_type", "prefill"), ("connection_mode", "grpc"),
                       ("model", "qwen"), ("policy", "power_of_two"))): 7.0,
                 })
    check_family(families, "smg_test_large", "counter",
                 "Counts beyond 2^53 are written exactly.",
                 {("smg_test_large_total", ()): float(2**64 - 1)})

    gauge_values = {
        "negative": -3.5, "fraction": 0.1, "tiny": 1e-300, "large": 6.02214076e23,
        "integer": 42.0, "negative_zero": -0.0, "pos_inf": math.inf, "neg_inf": -math.inf,
        "nan": math.nan, "added": -0.75,
    }
    check_family(families, "smg_test_gauge", "gauge",
                 "Gauge values of every kind.\nHELP escapes \\ and newlines.",
                 {("smg_test_gauge", (("case", c),)): v for c, v in gauge_values.items()})

    check_family(families, "smg_test_label_values", "gauge",
                 "Label values that need escaping or are not ASCII.",
                 {("smg_test_label_values", (("value", v),)): float(i)
                  for i, v in enumerate(AWKWARD)})

    llama = (("model", "llama-3-70b"),)
    qwen = (("model", "qwen"),)
    samples = histogram("smg_route_duration_seconds", llama,
                        [("0.001", 2), ("0.01", 2), ("0.1", 3), ("1", 3)], 5,
                        0.0005 + 0.001 + 0.02 + 3.0 + 50.0)
    samples.update(histogram("smg_route_duration_seconds", qwen,
                             [("0.001", 0), ("0.01", 0), ("0.1", 0), ("1", 0)], 0, 0.0))
    check_family(families, "smg_route_duration_seconds", "histogram",
                 "Time to choose a worker.", samples)

    check_family(families, "smg_worker_pool_size", "gauge", "Workers in the pool.", {
        ("smg_worker_pool_size",
         (("worker_type", "regular"), ("connection_mode", "http"), ("model", "llama-3-70b"))): 3.0,
        ("smg_worker_pool_size",
         (("worker_type", "prefill"), ("connection_mode", "grpc"), ("model", "qwen"))): 1.0,
    })
    check_family(families, "smg_test_collected_seconds", "histogram",
                 "A histogram a collector builds.",
                 histogram("smg_test_collected_seconds", (("leg", "decode"),),
                           [("0.5", 1), ("1", 4)], 6, 9.5))
    check_family(families, "smg_test_untyped", "unknown", "",
                 {("smg_test_untyped", ()): 12.5})

    if families:
        fail(f"unexpected families {sorted(families)}")
    print(f"OK: {len(want_order)} families, {text.count(chr(10))} lines parsed by prometheus_client")


if __name__ == "__main__":
    main()
