"""Fleet provisioning metrics (fpmetrics.py): the running total AWS publishes per claim, the failure
metrics, the publishing period, and CloudWatch's answers over them; directly and through the
control endpoints and GetMetricData / ListMetrics."""

import datetime
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import emuharness as h  # noqa: E402
import fpmetrics  # noqa: E402
import state  # noqa: E402

UTC = datetime.timezone.utc
NOW = datetime.datetime.now(UTC).replace(second=0, microsecond=0)
HOUR = datetime.timedelta(hours=1)


def iso(t):
    return t.strftime('%Y-%m-%dT%H:%M:%SZ')


def metric(name, dims=()):
    return {'Namespace': 'AWS/IoT', 'MetricName': name,
            'Dimensions': [{'Name': n, 'Value': v} for n, v in dims]}


def query(qid, m, stat, period):
    return {'Id': qid, 'MetricStat': {'Metric': m, 'Period': period, 'Stat': stat}}


class Direct(unittest.TestCase):
    """The module's API on a bare state dict."""

    def setUp(self):
        self.st = state.empty()
        fpmetrics.bind(lambda: NOW)

    def points(self, name, dims=()):
        key = next(k for k, m in self.st['cloudwatch']['metrics'].items()
                   if m['MetricName'] == name and m['Dimensions'] == [{'Name': n, 'Value': v} for n, v in dims])
        return self.st['cloudwatch']['metrics'][key]['Points']

    def test_registration_publishes_the_running_total(self):
        t = NOW.timestamp()
        for i in range(3):
            self.assertEqual(fpmetrics.registration(self.st, 'c1', 'tmpl', t - 600 + i), i + 1)
        fpmetrics.registration(self.st, 'c2', 'tmpl', t - 500)
        self.assertEqual([p[1] for p in self.points('ApproximateNumberOfThingsRegistered',
                                                    [('ClaimCertificateId', 'c1')])], [1, 2, 3])
        self.assertEqual(fpmetrics.total(self.st, 'c1'), 3)
        self.assertEqual(fpmetrics.total(self.st, 'c2'), 1)
        # out of order: the totals follow time, not call order
        fpmetrics.registration(self.st, 'c1', 'tmpl', t - 900)
        self.assertEqual([p[1] for p in self.points('ApproximateNumberOfThingsRegistered',
                                                    [('ClaimCertificateId', 'c1')])], [1, 2, 3, 4])
        # ts None is the bound clock; the point reaches CloudWatch when its minute closes
        fpmetrics.registration(self.st, 'c3', None)
        p = self.points('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'c3')])[0]
        self.assertEqual((p[0], p[3]), (t, t + 60))

    def test_failure_metrics(self):
        t = NOW.timestamp() - 300
        fpmetrics.register_thing_result(self.st, 'tmpl', True, t)
        fpmetrics.register_thing_result(self.st, 'tmpl', False, t + 1)
        fpmetrics.create_keys_result(self.st, True, t)
        self.assertEqual([p[1] for p in self.points('RegisterThingFailed', [('TemplateName', 'tmpl')])], [1, 0])
        self.assertEqual([p[1] for p in self.points('CreateKeysAndCertificateFailed')], [1])
        fpmetrics.create_from_csr_result(self.st, True, t)
        self.assertEqual(len(self.points('CreateCertificateFromCsrFailed')), 1)
        fpmetrics.configure(self.st, {'csrFailureMetric': 'CreateCertificateFromCsrMqttApiFailed'})
        fpmetrics.create_from_csr_result(self.st, False, t)
        self.assertEqual([p[1] for p in self.points('CreateCertificateFromCsrMqttApiFailed')], [0])
        fpmetrics.configure(self.st, {'csrFailureMetric': None})
        n = len(self.st['cloudwatch']['metrics'])
        fpmetrics.create_from_csr_result(self.st, True, t)
        self.assertEqual(len(self.st['cloudwatch']['metrics']), n, 'an account that publishes neither name')
        with self.assertRaises(ValueError):
            fpmetrics.configure(self.st, {'csrFailureMetric': 'CreateCertificateFromCsrFailures'})
        with self.assertRaises(ValueError):
            fpmetrics.register_thing_result(self.st, '', True)

    def test_minute_sampling_and_dips(self):
        t = NOW.timestamp() - 3600
        fpmetrics.registrations(self.st, 'c', 't', [t, t + 10, t + 20, t + 70], dip=2)
        pts = self.points('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'c')])
        self.assertEqual([p[1] for p in pts], [1, 2, 3, 4, 2], 'the approximate count reads 2 below once')
        fpmetrics.configure(self.st, {'sampling': 'minute'})
        pts = self.points('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'c')])
        self.assertEqual([(p[0] - t, p[1]) for p in pts], [(0, 3), (60, 2)])


class ThroughCloudWatch(unittest.TestCase):
    """The control endpoints, and what GetMetricData / ListMetrics answer over the points."""

    @classmethod
    def setUpClass(cls):
        cls.emu = h.Emu('--no-quotas')
        cls.cw = cls.emu.client('cloudwatch')

    @classmethod
    def tearDownClass(cls):
        cls.emu.stop()

    def setUp(self):
        self.assertEqual(self.emu.control('POST', 'reset')[0], 200)

    def post(self, path, body):
        st, out = self.emu.control('POST', path, body)
        self.assertEqual(st, 200, out)
        return out

    def get(self, queries, start, end):
        out = self.cw.get_metric_data(MetricDataQueries=queries, StartTime=start, EndTime=end,
                                      ScanBy='TimestampAscending')
        return {r['Id']: (r['Timestamps'], r['Values']) for r in out['MetricDataResults']}

    def test_long_history_answers_every_statistic(self):
        # 1,000 registrations over ten days, then 3 in the last hour
        self.post('registrations', {'claimCertificateId': 'claimA', 'templateName': 'T', 'count': 1000,
                                    'from': iso(NOW - 10 * 24 * HOUR), 'to': iso(NOW - 2 * HOUR)})
        out = self.post('registrations', {'claimCertificateId': 'claimA', 'templateName': 'T', 'count': 3,
                                          'timestamp': iso(NOW - datetime.timedelta(minutes=30))})
        self.assertEqual(out['registrations'][0]['total'], 1003)
        m = metric('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'claimA')])
        start, end = NOW - 3 * HOUR, NOW
        got = self.get([query(s.lower(), m, s, 3600) for s in fpmetrics_stats()], start, end)
        # the ten-day spread puts 1000/(10*24-2) per hour before; the last hour holds only 1001..1003
        ts, mx = got['maximum']
        self.assertEqual(mx[-1], 1003)
        self.assertEqual(got['minimum'][1][-1], 1001)
        self.assertEqual(got['samplecount'][1][-1], 3)
        self.assertEqual(got['sum'][1][-1], 1001 + 1002 + 1003)
        self.assertEqual(got['average'][1][-1], 1002)
        self.assertLess(mx[0], 1001)
        # the whole history at a one-day period (the 1-hour retention rules allow it)
        got = self.get([query('m', m, 'Maximum', 86400)], NOW - 12 * 24 * HOUR, NOW)
        self.assertEqual(max(got['m'][1]), 1003)
        self.assertEqual(self.emu.control('GET', 'registrations')[1]['claims']['claimA'],
                         {'total': 1003, 'templates': ['T']})

    def test_published_once_the_minute_closes(self):
        self.post('clock', {'now': iso(NOW + datetime.timedelta(seconds=10))})
        self.post('registrations', {'claimCertificateId': 'claimB', 'count': 2})
        m = metric('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'claimB')])
        got = self.get([query('m', m, 'Maximum', 60)], NOW - HOUR, NOW + HOUR)
        self.assertEqual(got['m'][1], [], 'not published before the minute closes')
        self.assertEqual(self.cw.list_metrics(MetricName='ApproximateNumberOfThingsRegistered')['Metrics'], [])
        self.post('clock', {'now': iso(NOW + datetime.timedelta(seconds=61))})
        got = self.get([query('m', m, 'Maximum', 60)], NOW - HOUR, NOW + HOUR)
        self.assertEqual(got['m'][1], [2])
        self.assertEqual(len(self.cw.list_metrics(MetricName='ApproximateNumberOfThingsRegistered')['Metrics']), 1)
        cfg = self.post('config', {'publishPeriodSeconds': 0})
        self.assertEqual(cfg['publishPeriodSeconds'], 0)

    def test_failure_metrics_and_the_csr_metric_name(self):
        t = iso(NOW - datetime.timedelta(minutes=20))
        self.post('provisioning-results', {'results': [
            {'api': 'RegisterThing', 'templateName': 'T', 'failed': 2, 'succeeded': 3, 'timestamp': t},
            {'api': 'CreateKeysAndCertificate', 'failed': 1, 'succeeded': 1, 'timestamp': t},
            {'api': 'CreateCertificateFromCsr', 'failed': 4, 'timestamp': t}]})
        self.post('config', {'csrFailureMetric': 'CreateCertificateFromCsrMqttApiFailed'})
        self.post('provisioning-results', {'api': 'CreateCertificateFromCsr', 'failed': 1, 'timestamp': t})
        rt = metric('RegisterThingFailed', [('TemplateName', 'T')])
        got = self.get([query('s', rt, 'Sum', 3600), query('n', rt, 'SampleCount', 3600),
                        query('k', metric('CreateKeysAndCertificateFailed'), 'Sum', 3600),
                        query('c1', metric('CreateCertificateFromCsrFailed'), 'Sum', 3600),
                        query('c2', metric('CreateCertificateFromCsrMqttApiFailed'), 'Sum', 3600)],
                       NOW - 2 * HOUR, NOW + HOUR)
        self.assertEqual(sum(got['s'][1]), 2)
        self.assertEqual(sum(got['n'][1]), 5)
        self.assertEqual(sum(got['k'][1]), 1)
        self.assertEqual((sum(got['c1'][1]), sum(got['c2'][1])), (4, 1))
        self.post('config', {'csrFailureMetric': None})
        self.assertIsNone(self.emu.control('GET', 'config')[1]['csrFailureMetric'])

    def test_retention_and_list_metrics_window(self):
        old = NOW - 20 * 24 * HOUR
        self.post('registrations', {'claimCertificateId': 'claimOld', 'count': 5, 'timestamp': iso(old)})
        m = metric('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'claimOld')])
        got = self.get([query('a', m, 'Maximum', 60), query('b', m, 'Maximum', 300)], old - HOUR, old + HOUR)
        self.assertEqual((got['a'][1], got['b'][1]), ([], [5]), '1-minute data is kept 15 days')
        # no data point in two weeks: ListMetrics leaves the metric out, GetMetricData still has it
        self.assertEqual(self.cw.list_metrics(MetricName='ApproximateNumberOfThingsRegistered')['Metrics'], [])

    def test_a_dip_alone_is_a_reading_at_its_timestamp(self):
        t, ten = NOW - datetime.timedelta(minutes=30), datetime.timedelta(minutes=10)
        self.post('registrations', {'claimCertificateId': 'cDip', 'count': 3, 'timestamp': iso(t - ten)})
        self.post('registrations', {'claimCertificateId': 'cDip', 'count': 0, 'dip': 2, 'timestamp': iso(t)})
        self.post('registrations', {'claimCertificateId': 'cDip', 'count': 1, 'timestamp': iso(t + ten)})
        m = metric('ApproximateNumberOfThingsRegistered', [('ClaimCertificateId', 'cDip')])
        got = self.get([query('a', m, 'Maximum', 60)], t - HOUR, NOW + HOUR)['a']
        # oldest first: 3 ten minutes before the dip, 1 at it, the new total 4 ten minutes after
        self.assertEqual(sorted(zip(got[0], got[1])), [(t - ten, 3), (t, 1), (t + ten, 4)])

    def test_bad_bodies(self):
        for path, body in (('registrations', {'count': 1}),
                           ('registrations', {'claimCertificateId': 'c', 'count': -1}),
                           ('registrations', {'claimCertificateId': 'c', 'count': 10 ** 7}),
                           ('registrations', {'claimCertificateId': 'c', 'from': iso(NOW), 'to': iso(NOW)}),
                           ('registrations', {'claimCertificateId': 'c', 'timestamp': 'yesterday'}),
                           ('registrations', {'claimCertificateId': 'c', 'dip': -3}),
                           ('provisioning-results', {'api': 'Nope'}),
                           ('provisioning-results', {'api': 'RegisterThing', 'failed': 1}),
                           ('config', {'sampling': 'hourly'}),
                           ('config', {'publishPeriodSeconds': -1})):
            st, out = self.emu.control('POST', path, body)
            self.assertEqual(st, 400, (path, body, out))
            self.assertIn('error', out)


def fpmetrics_stats():
    return ('Sum', 'SampleCount', 'Average', 'Maximum', 'Minimum')


if __name__ == '__main__':
    unittest.main()
