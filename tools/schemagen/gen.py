"""Derive the job-family JSON Schemas from the official SDK's marshmallow schemas (run with a Python that has azure-ai-ml)."""
import enum, json, re, sys, warnings, logging, importlib, pkgutil
from pathlib import Path
warnings.filterwarnings("ignore"); logging.disable(logging.CRITICAL)
from marshmallow import fields as mf, Schema
import azure.ai.ml
from azure.ai.ml._schema.core import fields as cf
from azure.ai.ml._schema.core.schema import PathAwareSchema
from azure.ai.ml._utils.utils import camel_to_snake, snake_to_camel
from descs import DESCS, DEF_DESCS

OUT = Path(__file__).resolve().parents[2] / "schemas"
ID = "https://ml.invalid/schemas/"
CTX = {"base_path": Path(".")}
BINDING = {"$ref": "common.schema.json#/$defs/binding"}

# every enum string value in the SDK, to list accepted spellings of case-insensitive enums
POOL = set(json.load(open(Path(__file__).with_name("pool.json"))))  # every SDK enum value, gathered in a separate process

def spellings(field):
    allowed = list(field.allowed_values)
    t = field.casing_transform
    out = []
    cands = []
    for v in allowed:
        cands += [v, v.lower(), v.upper(), v.capitalize(), v.title(), snake_to_camel(v),
                  snake_to_camel(v)[:1].upper() + snake_to_camel(v)[1:]]
    cands += sorted(POOL)
    for s in cands:
        try: ok = t(s) in allowed
        except Exception: ok = False
        if ok and s not in out: out.append(s)
    return out

FILE_OF_MODULE = [("automl", "autoMLJob"), ("_sweep", "sweepJob"), ("schedule", "schedule"),
                  ("monitoring", "schedule"), ("_data_import", "schedule"), ("_notification", "schedule"),
                  ("pipeline", "pipelineJob"), ("parameterized_spark", "sparkJob"), ("spark_job", "sparkJob"),
                  ("spark_resource", "sparkJob"), ("control_flow", "pipelineJob"), ("data_transfer", "pipelineJob"),
                  ("import_job", "pipelineJob")]
EXTERNAL = {  # inline entities whose schemas live in other families
    "AnonymousEnvironmentSchema": "environment.schema.json#/$defs/inlineEnvironment",
    "AnonymousCommandComponentSchema": "commandComponent.schema.json#/$defs/inlineCommandComponent",
    "AnonymousParallelComponentSchema": "parallelComponent.schema.json#/$defs/inlineParallelComponent",
    "AnonymousSparkComponentSchema": "sparkComponent.schema.json#/$defs/inlineSparkComponent",
}
OPAQUE = {"AnonymousImportComponentSchema", "AnonymousDataTransferCopyComponentSchema", "FlowComponentSchema"}
NAMES = {}  # python class name -> preferred def name
DEFS = {}   # file -> {name: schema}
SEEN = {}   # (file, name) -> canonical json, to give binding-augmented variants their own name
CUR = ["common"]

def file_for(cls):
    mod = cls.__module__
    for k, f in FILE_OF_MODULE:
        if k in mod: return f
    return "common"

def ref(file, name):
    return {"$ref": f"{file}.schema.json#/$defs/{name}"}

def desc_for(key, field):
    return DESCS.get(key) or key.replace("_", " ").capitalize() + "."

def is_node(inst):
    names = [c.__name__ for c in type(inst).__mro__]
    return any(n in names for n in ("BaseNodeSchema", "ControlFlowSchema", "AutoMLNodeMixin", "CommandJobSchema",
                                     "SparkJobSchema", "ImportJobSchema", "DataTransferCopyJobSchema",
                                     "DataTransferImportJobSchema", "DataTransferExportJobSchema", "ComponentSchema"))

def conv_schema(inst, is_root=False, open_=False):
    cls = type(inst)
    name = cls.__name__
    if name in EXTERNAL: return {"$ref": EXTERNAL[name]}
    if name in OPAQUE: return {"type": "object", "description": "Inline component (checked by its own loader)."}
    file = file_for(cls)
    base = NAMES.get(name, name[0].lower() + name[1:].replace("Schema", ""))
    body = object_schema(inst, is_root)
    if open_ or (is_node(inst) and "BaseNodeSchema" in [c.__name__ for c in type(inst).__mro__] and getattr(inst, "unknown", None) == "include"):
        body.pop("additionalProperties")  # the SDK keeps unknown keys here (nodes pass them through to the service)
    canon = json.dumps(body, sort_keys=True)
    n, i = base, 1
    while (file, n) in SEEN and SEEN[(file, n)] != canon:
        i += 1; n = f"{base}{'InPipeline' if i == 2 else i}"
    if (file, n) not in SEEN:
        SEEN[(file, n)] = canon
        d = dict(body)
        if name in DEF_DESCS: d = {"description": DEF_DESCS[name], **d}
        DEFS.setdefault(file, {})[n] = d
    return ref(file, n)

STACK = []
def object_schema(inst, is_root=False):
    if type(inst).__name__ in STACK:
        return {"$recursive": type(inst).__name__}
    STACK.append(type(inst).__name__)
    props, req = {}, []
    if isinstance(inst, PathAwareSchema):
        props["$schema"] = {"type": "string", "description": "URL of the JSON schema for editors."}
    for fname, f in inst.load_fields.items():
        key = f.data_key or fname
        s = conv(f)
        props[key] = {**s, "description": desc_for(key, f)}
        if f.required: req.append(key)
    if isinstance(inst, PathAwareSchema):  # read-only keys are dropped on load, not rejected
        for fname, f in inst.fields.items():
            key = f.data_key or fname
            if f.dump_only and key not in props:
                props[key] = {"description": "Read-only; ignored when loading.", "deprecated": True}
    STACK.pop()
    out = {"type": "object", "properties": props, "additionalProperties": False}
    if req: out["required"] = req
    return out

def nullable(f, s):
    if getattr(f, "allow_none", False):
        return {"anyOf": [s, {"type": "null"}]} if "anyOf" not in s else {"anyOf": s["anyOf"] + [{"type": "null"}]}
    return s

def conv(f):
    return nullable(f, conv_inner(f))

def is_plain_string(s):
    return s == {"type": "string"}

def conv_union(branches):
    out = []
    for b in branches:
        parts = b["anyOf"] if set(b) == {"anyOf"} else [b]
        for p in parts:
            if p not in out: out.append(p)
    if any(is_plain_string(p) for p in out):  # a plain string subsumes patterned strings
        out = [p for p in out if not (p.get("type") == "string" and not is_plain_string(p)) and p != BINDING]
        first = out.index({"type": "string"})
    out = discriminate(out)
    return out[0] if len(out) == 1 else {"anyOf": out}

def lookup(s):
    r = s.get("$ref", "")
    if "#/$defs/" not in r: return None
    f, n = r.split("#/$defs/")
    f = f.replace(".schema.json", "")
    return DEFS.get(f, {}).get(n)

def discriminate(out, key="type"):
    """Objects told apart by `type` become one object with if/then branches."""
    objs = [(b, lookup(b)) for b in out if (lookup(b) or {}).get("properties")]
    typed = [(b, d) for b, d in objs if "enum" in d["properties"].get(key, {}) or "const" in d["properties"].get(key, {})]
    if len(typed) < 2 or len(objs) != len([b for b in out if b.get("$ref")]):
        return out
    rest = [b for b in out if not b.get("$ref")]
    allv, allof, default, free = [], [], [], []
    for b, d in objs:
        t = d["properties"].get(key, {})
        vals = t.get("enum") or ([t["const"]] if "const" in t else None)
        if vals is None:
            (free if key in d["properties"] else default).append(b)
            continue
        allv += vals
        allof.append({"if": {"properties": {key: {"enum": vals}}, "required": [key]}, "then": b})
        if key not in d.get("required", []): default.append(b)
    obj = {"type": "object", "properties": {key: {"type": "string"} if free else {"type": "string", "enum": allv}}, "allOf": allof}
    default = default + [b for b in free if b not in default]
    if default:
        obj["allOf"].append({"if": {"not": {"required": [key]}}, "then": default[0] if len(default) == 1 else {"anyOf": default}})
    else:
        obj["required"] = [key]
    if free:
        obj["allOf"].append({"if": {"required": [key], "not": {"properties": {key: {"enum": allv}}}},
                             "then": free[0] if len(free) == 1 else {"anyOf": free}})
    return rest + [obj]

def conv_inner(f):
    c = type(f).__name__
    if isinstance(f, cf.TypeSensitiveUnionField):
        return type_sensitive(f)
    if isinstance(f, cf.UnionField):
        return conv_union([conv_inner(x) for x in f.union_fields])
    if isinstance(f, cf.ExperimentalField):
        return conv_inner(f.experimental_field)
    if isinstance(f, cf.DataBindingStr):  # includes NodeBindingStr
        return BINDING
    if isinstance(f, cf.StringTransformedEnum):
        sp = spellings(f)
        return {"type": "string", "enum": sp} if len(sp) > 1 else {"type": "string", "const": sp[0]}
    if isinstance(f, cf.ArmStr):  # and ArmVersionedStr
        return {"type": "string", "pattern": "^azureml:.+"}
    if isinstance(f, cf.RegistryStr):
        return {"type": "string", "pattern": "^azureml://(registries|feeds)/"}
    if isinstance(f, cf.GitStr):
        return {"type": "string", "pattern": "^git\\+"}
    if isinstance(f, cf.LocalPathField):
        p = getattr(f, "_pattern", None)
        if p and "?!" in p:
            return {"type": "string", "not": {"pattern": "^(azureml|https?|wasbs?|file):"}}
        return {"type": "string", "pattern": p} if p else {"type": "string"}
    if isinstance(f, cf.VersionField):
        return {"type": ["string", "number"]}
    if isinstance(f, (cf.FileRefField, cf.RefField)) or c.endswith("RefField"):
        return {"type": "string"}
    if c == "OutputBindingStr":
        return {"type": "string", "pattern": "^\\$\\{\\{parent\\.outputs\\..*\\}\\}$"}
    if isinstance(f, mf.Nested):
        n = f.nested
        if isinstance(n, str) and type(f.parent).__name__ == n:
            return {"$recursive": n}
        try:
            inst = f.schema
        except Exception as e:
            name = n if isinstance(n, str) else getattr(n, "__name__", type(n).__name__)
            if name in EXTERNAL: return {"$ref": EXTERNAL[name]}
            if name in OPAQUE: return {"type": "object"}
            raise
        s = conv_schema(inst, open_=(f.unknown == "include"))
        return {"type": "array", "items": s} if f.many else s
    if isinstance(f, mf.Dict):
        s = {"type": "object"}
        if f.value_field is not None and not isinstance(f.value_field, mf.Raw) or type(getattr(f, "value_field", None)).__name__ not in ("Raw", "NoneType"):
            s["additionalProperties"] = conv(f.value_field)
        if f.key_field is not None and isinstance(f.key_field, cf.StringTransformedEnum):
            s["propertyNames"] = conv_inner(f.key_field)
        return s
    if isinstance(f, mf.List):
        return {"type": "array", "items": conv(f.inner)}
    if isinstance(f, mf.Boolean): return {"type": "boolean"}
    if isinstance(f, mf.Integer): return {"type": "integer"}
    if isinstance(f, mf.Number): return {"type": "number"}
    if isinstance(f, (mf.DateTime,)): return {"type": "string"}
    if isinstance(f, mf.String): return {"type": "string"}
    if isinstance(f, mf.Raw): return {}
    raise TypeError(c)

def lower_spellings(t):
    return list(dict.fromkeys([t, t.capitalize(), t.upper()]))

def type_sensitive(f):
    tname = f._type_field_name
    bound = list(f.union_fields)
    nplain = len(bound) - sum(len(v) for v in f._type_sensitive_fields_dict.values())
    plain = [conv(x) for x in bound[:nplain]]
    pos = nplain
    allof, types = [], []
    for t, flds in f._type_sensitive_fields_dict.items():
        bs = []
        for x in bound[pos:pos + len(flds)]:
            s = conv(x)
            if s.get("type") == "string":  # a path/reference form: not told apart by `type`
                if s not in plain: plain.append(s)
            elif s not in bs: bs.append(s)
        pos += len(flds)
        sp = lower_spellings(t)
        types += sp
        then = bs[0] if len(bs) == 1 else {"anyOf": bs}
        allof.append({"if": {"properties": {tname: {"enum": sp}}, "required": [tname]}, "then": then})
    obj = {"type": "object", "properties": {tname: {"type": "string", "enum": types}}, "allOf": allof}
    if type(f).__name__ == "ScheduleCreateJobField":
        # without `type`, the job must come from a YAML file; a remote job with updates needs `type`
        obj["allOf"].append({"if": {"not": {"required": [tname]}}, "then": {"allOf": [allof[0]["then"],
            {"properties": {"job": {"not": {"pattern": "^azureml:"}}}}]}})
    elif tname != "type":
        obj["required"] = [tname]
    else:  # without a type the SDK tries the first kind
        obj["allOf"].append({"if": {"not": {"required": [tname]}}, "then": allof[0]["then"]})
    if not plain:
        return obj
    return conv_union(plain + [obj])
TS_REQUIRE = [False]

# ---------------------------------------------------------------- roots
def closed_root(inst, file, title, description, type_const=None, type_required=True, drop=()):
    CUR[0] = file
    body = object_schema(inst, True)
    for k in drop: body["properties"].pop(k, None)
    if type_const is not None:
        body["properties"]["type"] = {"type": "string", "const": type_const, "description": f"Job type: `{type_const}`."}
        body["required"] = sorted(set(body.get("required", [])) | ({"type"} if type_required else set()))
        if not type_required and "type" in body["required"]: body["required"].remove("type")
    return body

ROOTS = {}
def add_root(file, title, description, schema):
    ROOTS[file] = {"title": title, "description": description, "schema": schema}

def fix_recursive(node, file):
    if isinstance(node, dict):
        if "$recursive" in node:
            cls = node.pop("$recursive")
            for (f, n), _ in SEEN.items():
                if n == NAMES.get(cls, cls[0].lower() + cls[1:].replace("Schema", "")):
                    node["$ref"] = f"{f}.schema.json#/$defs/{n}"; break
        for k, v in node.items(): fix_recursive(v, file)
    elif isinstance(node, list):
        for v in node: fix_recursive(v, file)

def relocalize(node, file):
    """Refs into the file itself become local."""
    if isinstance(node, dict):
        r = node.get("$ref")
        if isinstance(r, str) and r.startswith(file + ".schema.json#"):
            node["$ref"] = r[len(file + ".schema.json"):]
        for v in node.values(): relocalize(v, file)
    elif isinstance(node, list):
        for v in node: relocalize(v, file)
CURFILE = {}

def write_all(titles):
    files = set(DEFS) | set(ROOTS)
    for file in sorted(files):
        doc = {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": f"{ID}{file}.schema.json"}
        doc["title"], doc["description"] = titles[file]
        if file in ROOTS:
            doc.update(ROOTS[file]["schema"])
        doc["$defs"] = dict(sorted(DEFS.get(file, {}).items()))
        doc = json.loads(json.dumps(doc))  # defs share dict objects; edit a private copy
        fix_recursive(doc, file)
        relocalize(doc, file)
        (OUT / f"{file}.schema.json").write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
