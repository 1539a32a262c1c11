from cli.spec.bindings import check_command, check_pipeline


def messages(findings):
    return [(f.path, f.message) for f in findings]


def test_command_bindings_name_declared_ports():
    findings = check_command("run ${{inputs.data}} ${{inputs.dta}} ${{outputs.model}}", ("command",), {"data": {}}, {"out": {}})
    assert messages(findings) == [
        (("command",), "'${{inputs.dta}}' names no declared input (did you mean 'data'?)"),
        (("command",), "'${{outputs.model}}' names no declared output"),
    ]


def test_optional_inputs_only_inside_optional_segments():
    inputs = {"a": {"optional": True}, "b": {"optional": True}}
    findings = check_command("run $[[--a ${{inputs.a}}]] --b ${{inputs.b}}", ("command",), inputs, {})
    assert [(f.path, f.message, f.severity) for f in findings] == [
        (("command",), "optional input 'b' is used outside $[[ ... ]]; the command breaks when it is not given", "warning"),
    ]


def test_parameter_group_members_are_declared_by_their_dotted_name():
    assert check_command("run ${{inputs.group.lr}} ${{inputs.group.nope}}", ("command",), {"group.lr": {}}, {}) == [
        check_command("${{inputs.group.nope}}", ("command",), {"group.lr": {}}, {})[0],
    ]


def test_search_space_keys():
    findings = check_command("train --lr ${{search_space.lr}} --bs ${{search_space.batch}}", ("trial", "command"), {}, {}, {"lr": {}})
    assert messages(findings) == [(("trial", "command"), "'${{search_space.batch}}' names no search_space key")]


def test_pipeline_bindings_and_ports():
    spec = {
        "inputs": {"raw": {}},
        "outputs": {"final": {}},
        "jobs": {
            "prep": {"inputs": {"data": "${{parent.inputs.rwa}}"}, "outputs": {"clean": "${{parent.outputs.final}}"}},
            "train": {"inputs": {"data": "${{parent.jobs.prep.outputs.cleaned}}", "x": "${{parent.jobs.nope.outputs.y}}"}},
        },
    }
    ports = {"prep": ({"data": {}}, {"clean": {}}), "train": ({"data": {}}, {})}
    findings = check_pipeline(spec, lambda node: ports["prep" if node is spec["jobs"]["prep"] else "train"])
    assert messages(findings) == [
        (("jobs", "prep", "inputs", "data"), "'${{parent.inputs.rwa}}' names no pipeline input (did you mean 'raw'?)"),
        (("jobs", "train", "inputs", "data"), "'${{parent.jobs.prep.outputs.cleaned}}': step 'prep' has no output 'cleaned' (did you mean 'clean'?)"),
        (("jobs", "train", "inputs", "x"), "'${{parent.jobs.nope.outputs.y}}' names no step of this pipeline"),
        (("jobs", "train", "inputs", "x"), "the step's component declares no input 'x'; it will be ignored"),
    ]


def test_pipeline_cycle_is_reported_once():
    spec = {"jobs": {
        "a": {"inputs": {"i": "${{parent.jobs.c.outputs.o}}"}},
        "b": {"inputs": {"i": "${{parent.jobs.a.outputs.o}}"}},
        "c": {"inputs": {"i": "${{parent.jobs.b.outputs.o}}"}},
    }}
    assert messages(check_pipeline(spec, lambda node: None)) == [(("jobs", "a"), "pipeline steps form a cycle: a -> c -> b -> a")]
