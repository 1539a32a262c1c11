import pytest

from cli.spec.overrides import OverrideError, apply_override, parse_override
from cli.spec.references import MalformedReference, parse_reference


@pytest.mark.parametrize("text, path, value", [
    ("resources.instance_count=2", ("resources", "instance_count"), 2),
    ("inputs.lr=0.1", ("inputs", "lr"), 0.1),
    ("tags.flag=true", ("tags", "flag"), True),
    ("display_name=a=b", ("display_name",), "a=b"),
    ("environment_variables.EMPTY=", ("environment_variables", "EMPTY"), ""),
    ("jobs.train.outputs[0]=x", ("jobs", "train", "outputs", 0), "x"),
])
def test_parse_override(text, path, value):
    assert parse_override(text) == (path, value)


def test_apply_creates_mappings_and_refuses_to_cross_a_reference():
    data = {"environment": "azureml:env:1"}
    apply_override(data, ("resources", "instance_count"), 2, "resources.instance_count=2")
    assert data["resources"] == {"instance_count": 2}
    with pytest.raises(OverrideError, match="'environment' is a reference string"):
        apply_override(data, ("environment", "image"), "x", "environment.image=x")


@pytest.mark.parametrize("text", ["novalue", "=3", "a..b=1"])
def test_bad_override_syntax(text):
    with pytest.raises(OverrideError):
        parse_override(text)


@pytest.mark.parametrize("text, kind, fields", [
    ("azureml:env:3", "asset", {"name": "env", "version": "3"}),
    ("azureml:env@latest", "label", {"name": "env", "label": "latest"}),
    ("azureml:cpu-cluster", "resource", {"name": "cpu-cluster"}),
    ("azureml://registries/azureml/models/m/versions/2", "registry", {"registry": "azureml", "asset_type": "models", "version": "2"}),
    ("azureml://feeds/azureml/environments/e/labels/latest", "registry", {"asset_type": "environments", "label": "latest"}),
    ("azureml://datastores/workspaceblobstore/paths/a/b.csv", "datastore", {"datastore": "workspaceblobstore", "path": "a/b.csv"}),
    ("azureml://jobs/job-1/outputs/model/paths/x", "job_output", {"job": "job-1", "output": "model", "path": "x"}),
    ("azureml://subscriptions/s/resourcegroups/rg/workspaces/w/datastores/d/paths/p", "datastore", {"datastore": "d"}),
    ("/subscriptions/s/resourceGroups/rg/providers/Microsoft.MachineLearningServices/workspaces/w/computes/c", "arm", {"name": "c"}),
])
def test_well_formed_references(text, kind, fields):
    reference = parse_reference(text)
    assert reference.kind == kind
    for key, value in fields.items():
        assert getattr(reference, key) == value


@pytest.mark.parametrize("text, message", [
    ("azureml:", "names nothing"),
    ("azureml:env:", "is not a valid reference"),
    ("azureml:env@", "is not a valid reference"),
    ("azureml://datastores/ds", "expected azureml://datastores/<datastore>/paths/<path>"),
    ("azureml://registries/r/things/x/versions/1", "registry asset type 'things'"),
    ("azureml://jobs/j", "expected azureml://jobs/<job>/outputs/<output>"),
    ("azureml:/subscriptions/x", "is not a valid ARM id"),
])
def test_malformed_references(text, message):
    with pytest.raises(MalformedReference, match=message.replace("(", r"\(").replace(")", r"\)").replace("?", r"\?")):
        parse_reference(text)


def _alias_bomb() -> str:
    lists = ["&a [x, x, x, x, x, x, x, x, x, x]"]
    lists += [f"&{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 10) + "]" for i in range(1, 9)]
    return "[" + ", ".join(lists) + "]"


@pytest.mark.parametrize("value, message", [
    ("[" * 5000 + "]" * 5000, "YAML nesting is too deep (more than 100 levels)"),
    ("[" * 150 + "]" * 150, "YAML nesting is too deep (more than 100 levels)"),
    (_alias_bomb(), "document expands to more than 200,000 nodes (YAML alias bomb?)"),
    ("{a: 1, a: 2}", "duplicate key 'a' (first defined at line 1)"),
    ("!!python/object:os.system ls", "unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'"),
])
def test_set_values_pass_the_guards_files_do(value, message):
    """A --set value is YAML read with the limits a spec file gets: an error, never a RecursionError or a hang."""
    with pytest.raises(OverrideError) as info:
        parse_override(f"tags.x={value}")
    assert str(info.value).startswith("--set tags.x=")
    assert str(info.value).endswith(f": {message}")
    assert len(str(info.value)) < 200  # the value is cut short, not echoed whole


def test_set_key_path_and_value_together_are_bounded():
    with pytest.raises(OverrideError, match=r"nesting is too deep \(more than 100 levels\)"):
        parse_override(".".join(["a"] * 60) + "=" + "[" * 50 + "]" * 50)
    assert parse_override(".".join(["a"] * 40) + "=[[1]]")[1] == [[1]]


@pytest.mark.parametrize("raw", ["echo {a", "python train.py --x [1", "a: b: c"])
def test_set_values_that_are_not_yaml_stay_text(raw):
    assert parse_override(f"command={raw}") == (("command",), raw)


def test_a_resolver_without_versions_collects_the_labels_instead_of_asking():
    """cli/rest is pure: `@latest` is answered from a mapping, and a collecting pass lists what to look up."""
    from cli.errors import UsageError
    from cli.rest.references import LABEL_PLACEHOLDER, ReferenceResolver

    ws = "/subscriptions/s/resourceGroups/g/providers/Microsoft.MachineLearningServices/workspaces/w"
    probe = ReferenceResolver(ws)
    assert probe.asset_id("azureml:env@latest", "environments") == f"{ws}/environments/env/versions/{LABEL_PLACEHOLDER}"
    probe.asset_id("azureml:m@latest", "models")
    assert probe.labels == {("environments", "env"), ("models", "m")}
    answered = ReferenceResolver(ws, {("environments", "env"): "7"})
    assert answered.asset_id("azureml:env@latest", "environments") == f"{ws}/environments/env/versions/7"
    assert answered.labels == set()
    with pytest.raises(UsageError, match="was not looked up first"):
        answered.asset_id("azureml:m@latest", "models")
