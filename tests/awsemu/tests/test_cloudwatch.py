"""CloudWatch GetMetricData statistics and paging, ListMetrics filters and paging."""

import datetime
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emuharness as h  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402

UTC = datetime.timezone.utc
# hour-aligned and recent: ListMetrics lists only metrics with data in the past two weeks, and
# 1-minute data is kept 15 days
T0 = datetime.datetime.fromtimestamp((int(time.time()) // 3600 - 8) * 3600, UTC)


def q(qid, claim, stat, period=3600, name='ApproximateNumberOfThingsRegistered'):
    return {'Id': qid, 'MetricStat': {'Metric': {'Namespace': 'AWS/IoT', 'MetricName': name,
                                                 'Dimensions': [{'Name': 'ClaimCertificateId', 'Value': claim}]},
                                      'Period': period, 'Stat': stat}}


class CloudWatch(h.EmuCase):
    CLIENTS = ('cloudwatch',)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        pts = []
        # hour 10: values 1,2,3 ; hour 11: 10 ; hour 13: 4,6
        for minute, v in ((0, 1), (20, 2), (40, 3), (60, 10), (180, 4), (199, 6)):
            pts.append({'timestamp': (T0 + datetime.timedelta(minutes=minute)).strftime('%Y-%m-%dT%H:%M:%SZ'),
                        'value': v})
        st, out = cls.emu.control('POST', 'metrics', {
            'namespace': 'AWS/IoT', 'metricName': 'ApproximateNumberOfThingsRegistered',
            'dimensions': [{'name': 'ClaimCertificateId', 'value': 'claimA'}], 'points': pts})
        assert st == 200 and out['points'] == 6, out
        st, out = cls.emu.control('POST', 'metrics', {'metrics': [
            {'namespace': 'AWS/IoT', 'metricName': 'RegisterThingFailed',
             'dimensions': [{'name': 'TemplateName', 'value': 'T%d' % i}],
             'points': [{'timestamp': T0.timestamp() + 60 * i, 'value': 1}]} for i in range(7)]})
        assert st == 200, out

    def get(self, queries, **kw):
        return self.cloudwatch.get_metric_data(MetricDataQueries=queries, StartTime=T0,
                                               EndTime=T0 + datetime.timedelta(hours=6), **kw)

    def test_statistics(self):
        out = self.get([q('s', 'claimA', 'Sum'), q('n', 'claimA', 'SampleCount'), q('a', 'claimA', 'Average'),
                        q('mx', 'claimA', 'Maximum'), q('mn', 'claimA', 'Minimum'), q('none', 'other', 'Sum')],
                       ScanBy='TimestampAscending')
        r = {x['Id']: x for x in out['MetricDataResults']}
        hours = [T0, T0 + datetime.timedelta(hours=1), T0 + datetime.timedelta(hours=3)]
        self.assertEqual(r['s']['Timestamps'], hours)
        self.assertEqual(r['s']['Values'], [6.0, 10.0, 10.0])
        self.assertEqual(r['n']['Values'], [3.0, 1.0, 2.0])
        self.assertEqual(r['a']['Values'], [2.0, 10.0, 5.0])
        self.assertEqual(r['mx']['Values'], [3.0, 10.0, 6.0])
        self.assertEqual(r['mn']['Values'], [1.0, 10.0, 4.0])
        self.assertEqual(r['none']['Values'], [])
        self.assertEqual(r['s']['StatusCode'], 'Complete')
        self.assertNotIn('NextToken', out)
        # default order is descending; StartTime/EndTime bound the points
        out = self.cloudwatch.get_metric_data(MetricDataQueries=[q('s', 'claimA', 'Sum', period=60)],
                                              StartTime=T0, EndTime=T0 + datetime.timedelta(minutes=30))
        self.assertEqual(out['MetricDataResults'][0]['Values'], [2.0, 1.0])

    def test_paging(self):
        queries = [q('s', 'claimA', 'Sum', period=60), q('m', 'claimA', 'Maximum', period=60)]
        full = self.get(queries)
        want = {r['Id']: r['Values'] for r in full['MetricDataResults']}
        self.assertEqual(len(want['s']), 6)
        got = {'s': [], 'm': []}
        token = None
        pages = 0
        while True:
            kw = {'MaxDatapoints': 4}
            if token:
                kw['NextToken'] = token
            out = self.get(queries, **kw)
            pages += 1
            n = 0
            for r in out['MetricDataResults']:
                got[r['Id']] += r['Values']
                n += len(r['Values'])
            self.assertLessEqual(n, 4)
            token = out.get('NextToken')
            if not token:
                break
            self.assertIn('PartialData', [r['StatusCode'] for r in out['MetricDataResults']])
        self.assertEqual(pages, 3)
        self.assertEqual(got, want)
        with self.assertRaises(ClientError) as cm:
            self.get(queries, NextToken='bm9wZQ==')
        self.assertEqual(cm.exception.response['Error']['Code'], 'InvalidNextToken')

    def test_limits_and_validation(self):
        queries = [q('q%d' % i, 'c%d' % i, 'Sum') for i in range(501)]
        with self.assertRaises(ClientError) as cm:
            self.get(queries)
        self.assertEqual(cm.exception.response['Error']['Code'], 'ValidationError')
        out = self.get(queries[:500])
        self.assertEqual(len(out['MetricDataResults']), 500)
        for bad, code in (([q('s', 'x', 'Sum'), q('s', 'y', 'Sum')], 'ValidationError'),
                          ([q('Upper', 'x', 'Sum')], 'ValidationError'),
                          ([q('s', 'x', 'Sum', period=61)], 'InvalidParameterValue'),
                          ([q('s', 'x', 'p99')], 'InvalidParameterValue')):
            with self.assertRaises(ClientError) as cm:
                self.get(bad)
            self.assertEqual(cm.exception.response['Error']['Code'], code, bad)
        st, hd, body = self.emu.query('cloudwatch', {'Action': 'GetMetricData'})
        self.assertEqual((st, h.error_code_xml(body)), (400, 'MissingParameter'))
        self.assertIn(b'xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"', body)

    def test_list_metrics(self):
        out = self.cloudwatch.list_metrics(Namespace='AWS/IoT', MetricName='ApproximateNumberOfThingsRegistered')
        self.assertEqual(out['Metrics'], [{'Namespace': 'AWS/IoT', 'MetricName': 'ApproximateNumberOfThingsRegistered',
                                           'Dimensions': [{'Name': 'ClaimCertificateId', 'Value': 'claimA'}]}])
        out = self.cloudwatch.list_metrics(Dimensions=[{'Name': 'TemplateName', 'Value': 'T3'}])
        self.assertEqual(len(out['Metrics']), 1)
        out = self.cloudwatch.list_metrics(Dimensions=[{'Name': 'TemplateName'}])
        self.assertEqual(len(out['Metrics']), 7)
        self.emu.control('POST', 'config', {'listMetricsPageSize': 3})
        try:
            names, token, pages = [], None, 0
            while True:
                kw = {'Namespace': 'AWS/IoT'}
                if token:
                    kw['NextToken'] = token
                out = self.cloudwatch.list_metrics(**kw)
                pages += 1
                names += [m['MetricName'] for m in out['Metrics']]
                token = out.get('NextToken')
                if not token:
                    break
            self.assertEqual((len(names), pages), (8, 3))
        finally:
            self.emu.control('POST', 'config', {'listMetricsPageSize': 500})


if __name__ == '__main__':
    unittest.main()
