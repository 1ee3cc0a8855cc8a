"""A fleet provisioning template evaluated as RegisterThing evaluates it (pure: no emulator state).

render(body, parameters, certificate_id) -> Rendered: the parameters resolved (device values, then Default),
Conditions, intrinsic functions (Ref, Fn::Join, Fn::Split, Fn::Select, Fn::FindInMap, Fn::Sub, Fn::If with
Fn::Equals / Fn::Not / Fn::And / Fn::Or / Condition), then each resource checked for its type's properties.
Every mistake raises ProvError (400 InvalidRequest) naming what is wrong; nothing here touches the registry.
Sources and the readings chosen where AWS is silent: tests/awsemu/README.md, "Fleet provisioning".
"""

import json
import re

CERT_ID_PARAM = 'AWS::IoT::Certificate::Id'
SECTIONS = ('Parameters', 'Mappings', 'Conditions', 'Resources', 'DeviceConfiguration')
THING, CERT, POLICY = 'AWS::IoT::Thing', 'AWS::IoT::Certificate', 'AWS::IoT::Policy'
MAX_DEPTH = 32          # nesting of intrinsic functions; a 10,240-character body cannot need more
MAX_DEVICE_CONFIGURATION = 126 * 1024   # the accepted answer carries it in one MQTT message (128 KiB at most)
THING_NAME_RE = re.compile(r'^[a-zA-Z0-9:_-]{1,128}$')
GROUP_NAME_RE = THING_NAME_RE
ATTR_NAME_RE = re.compile(r'^[a-zA-Z0-9_.,@/:#-]{1,128}$')
ATTR_VALUE_RE = re.compile(r'^[a-zA-Z0-9_.,@/:#=\[\]-]{0,800}$')
OVERRIDES = {'AttributePayload': ('DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE'),
             'ThingTypeName': ('DO_NOTHING', 'REPLACE', 'FAIL'),
             'ThingGroups': ('DO_NOTHING', 'REPLACE', 'FAIL', 'MERGE')}
OVERRIDE_ALIASES = {'ATTRIBUTE_PAYLOAD': 'AttributePayload', 'THING_TYPE_NAME': 'ThingTypeName',
                    'THING_GROUPS': 'ThingGroups'}


class ProvError(Exception):
    """A refusal the device sees on the .../rejected topic: statusCode, errorCode, errorMessage."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def invalid(message):
    return ProvError(400, 'InvalidRequest', message)


class Rendered:
    """The outcome of a template: resources with their properties evaluated, and the device configuration."""

    def __init__(self):
        self.thing = None          # {'logicalId', 'ThingName', 'AttributePayload', 'ThingTypeName', 'ThingGroups',
        #                             'overrides'}
        self.certificate = None    # {'logicalId', 'CertificateId', 'Status'}
        self.policies = []         # [{'logicalId', 'PolicyName' or 'PolicyDocument'}]
        self.device_configuration = {}
        self.parameters = {}       # the resolved parameter values


def render(body, parameters, certificate_id):
    doc = _parse(body)
    out = Rendered()
    out.parameters = _resolve_parameters(doc.get('Parameters') or {}, parameters, certificate_id)
    ev = Evaluator(out.parameters, _mappings(doc.get('Mappings')), _object(doc.get('Conditions'), 'Conditions'))
    resources = doc.get('Resources')
    if not isinstance(resources, dict) or not resources:
        raise invalid('The template must contain a Resources section with at least one resource')
    for logical_id, res in resources.items():
        _add_resource(out, ev, logical_id, res)
    if out.certificate is None:
        raise invalid('The template must declare one AWS::IoT::Certificate resource whose CertificateId is '
                      '{"Ref": "AWS::IoT::Certificate::Id"}')
    out.device_configuration = _device_configuration(ev, doc.get('DeviceConfiguration'))
    return out


def _parse(body):
    try:
        doc = json.loads(body)
    except ValueError:
        raise invalid('The template body is not a valid JSON document')
    if not isinstance(doc, dict):
        raise invalid('The template body must be a JSON object')
    unknown = sorted(k for k in doc if k not in SECTIONS)
    if unknown:
        raise invalid('Unsupported template section: %s' % unknown[0])
    return doc


def _resolve_parameters(declared, given, certificate_id):
    """Each declared parameter's value: the device's (or the hook's override), else its Default; the service
    always supplies AWS::IoT::Certificate::Id, whatever the device sent under that name."""
    if not isinstance(declared, dict):
        raise invalid('Parameters must be an object')
    values = {}
    for name, spec in declared.items():
        if not isinstance(spec, dict) or spec.get('Type') != 'String':
            raise invalid('Parameter %s must declare "Type": "String"' % name)
        extra = sorted(k for k in spec if k not in ('Type', 'Default', 'Description'))
        if extra:
            raise invalid('Parameter %s has an unsupported attribute: %s' % (name, extra[0]))
        if 'Default' in spec and not isinstance(spec['Default'], str):
            raise invalid('The Default of parameter %s must be a string' % name)
        if name == CERT_ID_PARAM:
            values[name] = certificate_id
        elif name in given:
            values[name] = given[name]
        elif 'Default' in spec:
            values[name] = spec['Default']
        else:
            raise invalid('Missing value for parameter %s: the request gives none and it has no Default' % name)
    return values


def _object(v, what):
    """v, an optional object of the template (a section, a resource's OverrideSettings): {} when
    absent; refused unless an object."""
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise invalid('%s must be an object' % what)
    return v


def _mappings(maps):
    """Mappings: name -> first key -> second key -> value; no intrinsic functions allowed inside."""
    maps = _object(maps, 'Mappings')
    for name, top in maps.items():
        if not isinstance(top, dict) or not all(isinstance(v, dict) for v in top.values()):
            raise invalid('Mapping %s must be a two-level map' % name)
        for second in top.values():
            for v in second.values():
                if _has_function(v):
                    raise invalid('Mapping %s may not contain parameters or intrinsic functions' % name)
    return maps


def _has_function(v):
    if isinstance(v, dict):
        return any(k == 'Ref' or k.startswith('Fn::') for k in v) or any(_has_function(x) for x in v.values())
    if isinstance(v, list):
        return any(_has_function(x) for x in v)
    return False


class Evaluator:
    """Intrinsic functions and conditions over the resolved parameters (CloudFormation's semantics)."""

    def __init__(self, params, mappings, conditions):
        self.params = params
        self.mappings = mappings
        self.conditions = conditions
        self.cond_values = {}
        self.cond_stack = []

    def value(self, node, depth=0):
        if depth > MAX_DEPTH:
            raise invalid('Intrinsic functions are nested more than %d deep' % MAX_DEPTH)
        if isinstance(node, list):
            return [self.value(x, depth + 1) for x in node]
        if not isinstance(node, dict):
            return node
        if len(node) == 1:
            (key, arg), = node.items()
            fn = FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg, depth + 1)
            if key.startswith('Fn::') or key == 'Condition':
                raise invalid('Unsupported intrinsic function: %s' % key)
        elif any(k == 'Ref' or k.startswith('Fn::') for k in node):
            raise invalid('An intrinsic function must be the only key of its object')
        return {k: self.value(v, depth + 1) for k, v in node.items()}

    def string(self, node, depth, what):
        v = self.value(node, depth)
        if not isinstance(v, str):
            raise invalid('%s must evaluate to a string' % what)
        return v

    def condition(self, name):
        """The value of a named condition (evaluated once, cycles refused)."""
        if not isinstance(name, str) or name not in self.conditions:
            raise invalid('Condition %s is not defined in the Conditions section' % name)
        if name in self.cond_values:
            return self.cond_values[name]
        if name in self.cond_stack:
            raise invalid('Condition %s refers to itself' % name)
        self.cond_stack.append(name)
        try:
            v = self.truth(self.conditions[name], 0)
        finally:
            self.cond_stack.pop()
        self.cond_values[name] = v
        return v

    def truth(self, node, depth):
        """A condition expression: Fn::Equals, Fn::Not, Fn::And, Fn::Or or {"Condition": name}."""
        if depth > MAX_DEPTH:
            raise invalid('Conditions are nested more than %d deep' % MAX_DEPTH)
        if isinstance(node, dict) and len(node) == 1:
            (key, arg), = node.items()
            if key == 'Condition':
                return self.condition(arg)
            fn = CONDITION_FUNCTIONS.get(key)
            if fn is not None:
                return fn(self, arg, depth + 1)
        raise invalid('A condition must be Fn::Equals, Fn::Not, Fn::And, Fn::Or or {"Condition": name}')


def _args(arg, n, fname):
    if not isinstance(arg, list) or len(arg) != n:
        raise invalid('%s takes a list of %d arguments' % (fname, n))
    return arg


def fn_ref(ev, arg, depth):
    if not isinstance(arg, str):
        raise invalid('Ref takes the name of a parameter')
    if arg not in ev.params:
        raise invalid('Ref to %s: no such parameter is declared in the Parameters section' % arg)
    return ev.params[arg]


def fn_join(ev, arg, depth):
    delim, items = _args(arg, 2, 'Fn::Join')
    delim = ev.string(delim, depth, 'The delimiter of Fn::Join')
    items = ev.value(items, depth)
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):
        raise invalid('Fn::Join joins a list of strings')
    return delim.join(items)


def fn_split(ev, arg, depth):
    delim, source = _args(arg, 2, 'Fn::Split')
    delim = ev.string(delim, depth, 'The delimiter of Fn::Split')
    if not delim:
        raise invalid('The delimiter of Fn::Split cannot be empty')
    return ev.string(source, depth, 'The source of Fn::Split').split(delim)


def fn_select(ev, arg, depth):
    index, items = _args(arg, 2, 'Fn::Select')
    index = ev.value(index, depth)
    if isinstance(index, str) and index.isdigit():
        index = int(index)
    if not isinstance(index, int) or isinstance(index, bool):
        raise invalid('The index of Fn::Select must be a number')
    items = ev.value(items, depth)
    if not isinstance(items, list):
        raise invalid('Fn::Select selects from a list')
    if not 0 <= index < len(items):
        raise invalid('Fn::Select index %d is out of bounds of a list of %d' % (index, len(items)))
    if items[index] is None:
        raise invalid('Fn::Select selected a null value')
    return items[index]


def fn_find_in_map(ev, arg, depth):
    name, first, second = [ev.string(x, depth, 'Each key of Fn::FindInMap') for x in _args(arg, 3, 'Fn::FindInMap')]
    try:
        return ev.mappings[name][first][second]
    except (KeyError, TypeError):
        raise invalid('Fn::FindInMap: no value for [%s, %s, %s] in Mappings' % (name, first, second))


SUB_VAR_RE = re.compile(r'\$\{([^}]*)\}')


def fn_sub(ev, arg, depth):
    if isinstance(arg, list):
        text, names = _args(arg, 2, 'Fn::Sub')
        if not isinstance(names, dict):
            raise invalid('The second argument of Fn::Sub is a map of variables')
        variables = {k: ev.string(v, depth, 'Fn::Sub variable %s' % k) for k, v in names.items()}
    else:
        text, variables = arg, {}
    if not isinstance(text, str):
        raise invalid('Fn::Sub takes a string')

    def one(m):
        name = m.group(1)
        if name.startswith('!'):
            return '${' + name[1:] + '}'
        if name in variables:
            return variables[name]
        return fn_ref(ev, name, depth)
    return SUB_VAR_RE.sub(one, text)


def fn_if(ev, arg, depth):
    name, yes, no = _args(arg, 3, 'Fn::If')
    return ev.value(yes if ev.condition(name) else no, depth)


def fn_equals(ev, arg, depth):
    a, b = _args(arg, 2, 'Fn::Equals')
    return ev.value(a, depth) == ev.value(b, depth)


def fn_not(ev, arg, depth):
    (c,) = _args(arg, 1, 'Fn::Not')
    return not ev.truth(c, depth)


def _many(arg, fname):
    if not isinstance(arg, list) or not 2 <= len(arg) <= 10:
        raise invalid('%s takes a list of 2 to 10 conditions' % fname)
    return arg


def fn_and(ev, arg, depth):
    return all([ev.truth(c, depth) for c in _many(arg, 'Fn::And')])


def fn_or(ev, arg, depth):
    return any([ev.truth(c, depth) for c in _many(arg, 'Fn::Or')])


FUNCTIONS = {'Ref': fn_ref, 'Fn::Join': fn_join, 'Fn::Split': fn_split, 'Fn::Select': fn_select,
             'Fn::FindInMap': fn_find_in_map, 'Fn::Sub': fn_sub, 'Fn::If': fn_if}
CONDITION_FUNCTIONS = {'Fn::Equals': fn_equals, 'Fn::Not': fn_not, 'Fn::And': fn_and, 'Fn::Or': fn_or}


# ---------------------------------------------------------------- resources

def _add_resource(out, ev, logical_id, res):
    if not isinstance(res, dict):
        raise invalid('Resource %s must be an object' % logical_id)
    extra = sorted(k for k in res if k not in ('Type', 'Properties', 'OverrideSettings', 'Condition'))
    if extra:
        raise invalid('Resource %s has an unsupported attribute: %s' % (logical_id, extra[0]))
    if 'Condition' in res and not ev.condition(res['Condition']):
        return
    props = ev.value(res.get('Properties') or {})
    if not isinstance(props, dict):
        raise invalid('The Properties of resource %s must be an object' % logical_id)
    kind = res.get('Type')
    if kind == THING:
        if out.thing is not None:
            raise invalid('A template can declare only one AWS::IoT::Thing')
        out.thing = _thing(logical_id, props, res.get('OverrideSettings'))
    elif kind == CERT:
        if out.certificate is not None:
            raise invalid('A template can declare only one AWS::IoT::Certificate')
        out.certificate = _certificate(logical_id, props, res.get('OverrideSettings'))
    elif kind == POLICY:
        if 'OverrideSettings' in res:
            raise invalid('OverrideSettings are not available for policy resources (%s)' % logical_id)
        out.policies.append(_policy(logical_id, props))
    else:
        raise invalid('Resource %s has an unsupported Type: %s' % (logical_id, kind))


def _only(props, allowed, logical_id):
    extra = sorted(k for k in props if k not in allowed)
    if extra:
        raise invalid('Resource %s has an unsupported property: %s' % (logical_id, extra[0]))


def _thing(logical_id, props, overrides):
    if 'BillingGroup' in props:
        raise invalid('Resource %s: billing groups are not emulated by awsemu' % logical_id)
    _only(props, ('ThingName', 'AttributePayload', 'ThingTypeName', 'ThingGroups'), logical_id)
    name = props.get('ThingName')
    if not isinstance(name, str) or not THING_NAME_RE.match(name):
        raise invalid('ThingName %s is not valid: it must match [a-zA-Z0-9:_-]+ (1 to 128 characters)'
                      % json.dumps(name))
    return {'logicalId': logical_id, 'ThingName': name, 'AttributePayload': _attributes(props),
            'ThingTypeName': _thing_type(props), 'ThingGroups': _groups(props),
            'overrides': _overrides(overrides, OVERRIDES, logical_id)}


def _attributes(props):
    attrs = props.get('AttributePayload')
    if attrs is None:
        return None
    if not isinstance(attrs, dict):
        raise invalid('AttributePayload must be a map of attribute names to string values')
    for k, v in attrs.items():
        if not ATTR_NAME_RE.match(k) or not isinstance(v, str) or not ATTR_VALUE_RE.match(v):
            raise invalid('Attribute %s is not valid: names match [a-zA-Z0-9_.,@/:#-]+, values are strings '
                          'matching [a-zA-Z0-9_.,@/:#=\\[\\]-]* (at most 800 characters)' % json.dumps(k))
    return attrs


def _thing_type(props):
    tt = props.get('ThingTypeName')
    if tt is None:
        return None
    if not isinstance(tt, str) or not THING_NAME_RE.match(tt):
        raise invalid('ThingTypeName %s is not valid' % json.dumps(tt))
    return tt


def _groups(props):
    groups = props.get('ThingGroups')
    if groups is None:
        return None
    if not isinstance(groups, list) or not all(isinstance(g, str) and GROUP_NAME_RE.match(g) for g in groups):
        raise invalid('ThingGroups must be a list of thing group names')
    return list(dict.fromkeys(groups))


def _overrides(spec, allowed, logical_id):
    """OverrideSettings of a resource, property -> action; a property not given is DO_NOTHING."""
    spec = _object(spec, 'OverrideSettings of %s' % logical_id)
    out = {}
    for prop, action in spec.items():
        prop = OVERRIDE_ALIASES.get(prop, prop)
        if prop not in allowed:
            raise invalid('OverrideSettings of %s: %s cannot be overridden' % (logical_id, prop))
        if action not in allowed[prop]:
            raise invalid('OverrideSettings of %s: %s must be one of %s' % (logical_id, prop, ', '.join(allowed[prop])))
        out[prop] = action
    return out


def _certificate(logical_id, props, overrides):
    for k in ('CertificateSigningRequest', 'CertificatePem', 'CACertificatePem'):
        if k in props:
            raise invalid('Resource %s: %s cannot be used with fleet provisioning, only CertificateId'
                          % (logical_id, k))
    _only(props, ('CertificateId', 'Status'), logical_id)
    if not isinstance(props.get('CertificateId'), str):
        raise invalid('Resource %s needs a CertificateId' % logical_id)
    status = props.get('Status', 'ACTIVE')
    if not isinstance(status, str) or status.upper() not in ('ACTIVE', 'INACTIVE'):
        raise invalid('The Status of certificate %s must be ACTIVE or INACTIVE' % logical_id)
    _overrides(overrides, {'Status': ('DO_NOTHING', 'REPLACE', 'FAIL')}, logical_id)
    return {'logicalId': logical_id, 'CertificateId': props['CertificateId'], 'Status': status.upper()}


def _policy(logical_id, props):
    _only(props, ('PolicyName', 'PolicyDocument'), logical_id)
    has_name, has_doc = 'PolicyName' in props, 'PolicyDocument' in props
    if has_name == has_doc:
        raise invalid('Policy %s must have a PolicyName or a PolicyDocument, not both' % logical_id
                      if has_name else 'Policy %s must have a PolicyName or a PolicyDocument' % logical_id)
    if has_name:
        if not isinstance(props['PolicyName'], str) or not props['PolicyName']:
            raise invalid('The PolicyName of %s must be a string' % logical_id)
        return {'logicalId': logical_id, 'PolicyName': props['PolicyName']}
    doc = props['PolicyDocument']
    if isinstance(doc, dict):
        doc = json.dumps(doc, separators=(',', ':'))
    if not isinstance(doc, str):
        raise invalid('The PolicyDocument of %s must be a JSON object or a string' % logical_id)
    return {'logicalId': logical_id, 'PolicyDocument': doc}


def _device_configuration(ev, spec):
    """DeviceConfiguration: AWS documents no nested objects; values are strings (or other scalars)."""
    if spec is None:
        return {}
    conf = ev.value(spec)
    if not isinstance(conf, dict):
        raise invalid('DeviceConfiguration must be an object')
    for k, v in conf.items():
        if isinstance(v, (dict, list)) or v is None:
            raise invalid('DeviceConfiguration value %s must be a string: nested objects are not supported' % k)
    if len(json.dumps(conf)) > MAX_DEVICE_CONFIGURATION:
        raise invalid('DeviceConfiguration exceeds %d bytes: the answer must fit in one MQTT message'
                      % MAX_DEVICE_CONFIGURATION)
    return conf
