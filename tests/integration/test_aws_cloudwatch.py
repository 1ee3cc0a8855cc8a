"""CloudWatch operations of aws/cloudwatch.c against the AWS emulator:
GetMetricData split into batches of at most 500 queries and paged with
NextToken to the end; ListMetrics paged to the end."""
import json
import os
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_aws_helpers import AwsCase  # noqa: E402

NOW = int(time.time()) // 300 * 300


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


class CloudWatch(AwsCase):
    def inject(self, n_claims, points=3):
        metrics = []
        for i in range(n_claims):
            metrics.append({"namespace": "AWS/IoT", "metricName": "ApproximateNumberOfThingsRegistered",
                            "dimensions": [{"name": "ClaimCertificateId", "value": "claim%04d" % i}],
                            "points": [{"timestamp": iso(NOW - 300 * (k + 1)), "value": i + k} for k in range(points)]})
        self.emu.control("POST", "metrics", {"metrics": metrics})

    def queries_file(self, n):
        qs = [{"id": "q%d" % i, "namespace": "AWS/IoT", "metric": "ApproximateNumberOfThingsRegistered",
               "dims": {"ClaimCertificateId": "claim%04d" % i}, "period": 300, "stat": "Sum"} for i in range(n)]
        fd, path = tempfile.mkstemp(prefix="fw-cwq-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(qs, f)
        self.addCleanup(os.unlink, path)
        return "@" + path

    def test_get_metric_data_small(self):
        self.inject(2)
        out = self.ok("cloudwatch.get-metric-data", queries=self.queries_file(2), start=NOW - 3600, end=NOW,
                      scan_by="TimestampAscending")
        self.assertEqual(out["calls"], 1)
        byid = {r["id"]: r for r in out["results"]}
        self.assertEqual(sorted(byid), ["q0", "q1"])
        self.assertEqual(byid["q1"]["values"], [3.0, 2.0, 1.0])
        self.assertEqual(byid["q1"]["timestamps"], [NOW - 900, NOW - 600, NOW - 300])
        self.assertEqual(byid["q0"]["statusCode"], "Complete")
        call = self.emu.calls(operation="GetMetricData")[-1]
        q = call["parameters"]["MetricDataQueries"][1]
        self.assertEqual(q["MetricStat"]["Metric"]["Dimensions"], [{"Name": "ClaimCertificateId", "Value": "claim0001"}])
        self.assertEqual(q["MetricStat"]["Stat"], "Sum")
        self.assertEqual(q["MetricStat"]["Period"], 300)

    def test_get_metric_data_batches_of_500(self):
        self.inject(1203, points=1)
        out = self.ok("cloudwatch.get-metric-data", queries=self.queries_file(1203), start=NOW - 3600, end=NOW)
        sizes = [len(c["parameters"]["MetricDataQueries"]) for c in self.emu.calls(operation="GetMetricData")]
        self.assertEqual(sizes, [500, 500, 203])
        self.assertEqual(out["calls"], 3)
        self.assertEqual(len(out["results"]), 1203)
        self.assertEqual({r["id"]: r["values"] for r in out["results"]}["q1202"], [1202.0])

    def test_get_metric_data_pages_next_token(self):
        self.inject(3, points=4)
        out = self.ok("cloudwatch.get-metric-data", queries=self.queries_file(3), start=NOW - 3600, end=NOW,
                      max_datapoints=5)
        calls = self.emu.calls(operation="GetMetricData")
        self.assertEqual(len(calls), 3)  # 12 points, 5 per page
        self.assertNotIn("NextToken", calls[0]["parameters"])
        self.assertIn("NextToken", calls[1]["parameters"])
        self.assertEqual(out["calls"], 3)
        byid = {r["id"]: r for r in out["results"]}
        self.assertEqual([len(byid[k]["values"]) for k in ("q0", "q1", "q2")], [4, 4, 4])
        self.assertEqual(sorted(byid["q2"]["values"]), [2.0, 3.0, 4.0, 5.0])

    def test_get_metric_data_error(self):
        fd, path = tempfile.mkstemp(suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump([{"id": "Bad-Id", "namespace": "AWS/IoT", "metric": "X", "period": 300, "stat": "Sum"}], f)
        self.addCleanup(os.unlink, path)
        res = self.fails("cloudwatch.get-metric-data", "ValidationError", "FW_EINVAL", queries="@" + path)
        self.assertEqual(res["attempts"], 1)

    def test_get_metric_data_failed_status_code_fails_the_call(self):
        # AWS answers 200 with a per-result StatusCode (Complete | InternalError | PartialData |
        # Forbidden): a failed result carries no points and must not read as "no data points".
        self.inject(2)
        for status, cls, rc in (("InternalError", "transient", "FW_EUNAVAILABLE"),
                                ("PartialData", "transient", "FW_EUNAVAILABLE"),
                                ("Forbidden", "access", "FW_EAWS")):
            self.emu.control("POST", "config", {"gmdStatusFault": {"dimensionValue": "claim0001",
                                                                   "statusCode": status}})
            res = self.fails("cloudwatch.get-metric-data", status, rc, queries=self.queries_file(2),
                             start=NOW - 3600, end=NOW)
            self.assertEqual((res["error"]["class"], res["error"]["retryable"]), (cls, status != "Forbidden"))
            self.assertIn("q1", res["error"]["message"])
            self.assertEqual(res["error"]["operation"], "cloudwatch:GetMetricData")
        # the fault was used up: the same query reads
        out = self.ok("cloudwatch.get-metric-data", queries=self.queries_file(2), start=NOW - 3600, end=NOW)
        self.assertEqual({r["id"]: r["statusCode"] for r in out["results"]}, {"q0": "Complete", "q1": "Complete"})

    def test_get_metric_data_internal_error_on_an_earlier_page_is_not_forgotten(self):
        # InternalError on page 1, Complete on the pages after it: the points of page 1 are lost
        self.inject(3, points=4)
        self.emu.control("POST", "config", {"gmdStatusFault": {"dimensionValue": "claim0000"}})
        res = self.fails("cloudwatch.get-metric-data", "InternalError", "FW_EUNAVAILABLE",
                         queries=self.queries_file(3), start=NOW - 3600, end=NOW, max_datapoints=5)
        self.assertEqual(len(self.emu.calls(operation="GetMetricData")), 3)
        self.assertIn("q0", res["error"]["message"])

    def test_paging_that_never_ends_is_stopped(self):
        self.inject(2)
        # the token that was sent, handed back: stopped at the second page
        self.emu.control("POST", "config", {"nextTokenLoop": {"ListMetrics": "repeat", "GetMetricData": "repeat"}})
        res = self.fails("cloudwatch.list-metrics", "PaginationLoop", "FW_EAWS", namespace="AWS/IoT")
        self.assertEqual(len(self.emu.calls(operation="ListMetrics")), 2)
        self.assertEqual((res["error"]["class"], res["error"]["retryable"]), ("other", False))
        self.fails("cloudwatch.get-metric-data", "PaginationLoop", "FW_EAWS", queries=self.queries_file(2),
                   start=NOW - 3600, end=NOW)
        self.assertEqual(len(self.emu.calls(operation="GetMetricData")), 2)
        # a new token every page: stopped at the page bound (100 per GetMetricData batch)
        self.emu.control("POST", "config", {"nextTokenLoop": {"GetMetricData": "fresh"}})
        res = self.fails("cloudwatch.get-metric-data", "PaginationLimit", "FW_EAWS", queries=self.queries_file(2),
                         start=NOW - 3600, end=NOW)
        self.assertEqual(len(self.emu.calls(operation="GetMetricData")), 2 + 100)
        self.assertIn("100 pages", res["error"]["message"])

    def test_list_metrics_pages(self):
        self.inject(7, points=1)
        self.emu.control("POST", "metrics", {"metrics": [
            {"namespace": "AWS/IoT", "metricName": "RegisterThingFailed",
             "dimensions": [{"name": "TemplateName", "value": "fleet-a"}],
             "points": [{"timestamp": iso(NOW - 60), "value": 1, "count": 2}]}]})
        self.emu.control("POST", "config", {"listMetricsPageSize": 3})
        out = self.ok("cloudwatch.list-metrics", namespace="AWS/IoT")
        self.assertEqual(len(out["metrics"]), 8)
        self.assertEqual(len(self.emu.calls(operation="ListMetrics")), 3)
        out = self.ok("cloudwatch.list-metrics", namespace="AWS/IoT", metric="RegisterThingFailed")
        self.assertEqual(out["metrics"], [{"namespace": "AWS/IoT", "metricName": "RegisterThingFailed",
                                           "dimensions": {"TemplateName": "fleet-a"}}])
        out = self.ok("cloudwatch.list-metrics", namespace="AWS/IoT", dim_name="ClaimCertificateId",
                      dim_value="claim0003")
        self.assertEqual(len(out["metrics"]), 1)
        call = self.emu.calls(operation="ListMetrics")[-1]
        self.assertEqual(call["parameters"]["Dimensions"], [{"Name": "ClaimCertificateId", "Value": "claim0003"}])


if __name__ == "__main__":
    unittest.main()
