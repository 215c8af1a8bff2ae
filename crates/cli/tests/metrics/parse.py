"""Parses an OpenMetrics exposition (standard input) with the official
Prometheus client's parser, which refuses anything malformed, and prints
its families as JSON: {name: {"type": ..., "samples": [[name, labels, value]]}}."""
import json
import sys

from prometheus_client.openmetrics.parser import text_string_to_metric_families

families = {}
for family in text_string_to_metric_families(sys.stdin.read()):
    families[family.name] = {
        "type": family.type,
        "samples": [[sample.name, sample.labels, sample.value] for sample in family.samples],
    }
print(json.dumps(families))
