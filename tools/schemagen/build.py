import json, sys
import gen
from gen import *
from azure.ai.ml._schema.job.command_job import CommandJobSchema
from azure.ai.ml._schema._sweep.sweep_job import SweepJobSchema
from azure.ai.ml._schema.job.spark_job import SparkJobSchema
from azure.ai.ml._schema.pipeline.pipeline_job import PipelineJobSchema
from azure.ai.ml._schema.schedule.schedule import JobScheduleSchema
from azure.ai.ml._schema._data_import.schedule import ImportDataScheduleSchema
from azure.ai.ml._schema.monitoring.schedule import MonitorScheduleSchema
from azure.ai.ml.entities._job.automl.automl_job import AutoMLJob
from azure.ai.ml._schema.job.input_output_fields_provider import InputsField, OutputsField
from azure.ai.ml._schema.core.fields import ComputeField, CodeField, EnvironmentField, DistributionField
from azure.ai.ml._schema.pipeline.component_job import CommandSchema

def mk(cls): return cls(context=dict(CTX))

add_root("commandJob", None, None, closed_root(mk(CommandJobSchema), "commandJob", "", "", "command", type_required=False))
add_root("sweepJob", None, None, closed_root(mk(SweepJobSchema), "sweepJob", "", "", "sweep"))
add_root("sparkJob", None, None, closed_root(mk(SparkJobSchema), "sparkJob", "", "", "spark"))
add_root("pipelineJob", None, None, closed_root(mk(PipelineJobSchema), "pipelineJob", "", "", "pipeline"))

# automl: the loader picks the task schema by the exact `task` value
CUR[0] = "autoMLJob"
allof, tasks = [], []
from azure.ai.ml._schema.automl.table_vertical.classification import AutoMLClassificationSchema
from azure.ai.ml._schema.automl.table_vertical.regression import AutoMLRegressionSchema
from azure.ai.ml._schema.automl.table_vertical.forecasting import AutoMLForecastingSchema
from azure.ai.ml._schema.automl.image_vertical.image_classification import ImageClassificationSchema, ImageClassificationMultilabelSchema
from azure.ai.ml._schema.automl.image_vertical.image_object_detection import ImageObjectDetectionSchema, ImageInstanceSegmentationSchema
from azure.ai.ml._schema.automl.nlp_vertical.text_classification import TextClassificationSchema
from azure.ai.ml._schema.automl.nlp_vertical.text_classification_multilabel import TextClassificationMultilabelSchema
from azure.ai.ml._schema.automl.nlp_vertical.text_ner import TextNerSchema
TASKS = {"classification": AutoMLClassificationSchema, "regression": AutoMLRegressionSchema,
         "forecasting": AutoMLForecastingSchema, "image_classification": ImageClassificationSchema,
         "image_classification_multilabel": ImageClassificationMultilabelSchema,
         "image_object_detection": ImageObjectDetectionSchema, "image_instance_segmentation": ImageInstanceSegmentationSchema,
         "text_ner": TextNerSchema, "text_classification": TextClassificationSchema,
         "text_classification_multilabel": TextClassificationMultilabelSchema}
assert list(TASKS) == list(AutoMLJob._get_task_mapping())
for task, cls in TASKS.items():
    inst = mk(cls)
    r = conv_schema(inst)
    d = lookup(r)
    d["properties"]["type"] = {"type": "string", "const": "automl", "description": "Job type: `automl`."}
    d["required"] = sorted(set(d.get("required", [])) | {"type"})
    tasks.append(task)
    allof.append({"if": {"properties": {"task": {"const": task}}, "required": ["task"]}, "then": r})
add_root("autoMLJob", None, None, {"type": "object",
    "properties": {"$schema": {"type": "string"}, "type": {"const": "automl"}, "task": {"type": "string", "enum": tasks}},
    "required": ["type", "task"], "allOf": allof})

CUR[0] = "schedule"
rj = conv_schema(mk(JobScheduleSchema)); ri = conv_schema(mk(ImportDataScheduleSchema)); rm = conv_schema(mk(MonitorScheduleSchema))
add_root("schedule", None, None, {"type": "object", "allOf": [
    {"if": {"required": ["create_monitor"]}, "then": rm},
    {"if": {"required": ["import_data"], "not": {"required": ["create_monitor"]}}, "then": ri},
    {"if": {"not": {"anyOf": [{"required": ["create_monitor"]}, {"required": ["import_data"]}]}}, "then": rj}]})

#json.dump({"DEFS": {f: list(d) for f, d in DEFS.items()}}, sys.stdout, indent=0)
TITLES = {
 "common": ("Shared job definitions", "Definitions shared by the job, sweep, pipeline, AutoML, Spark and schedule families."),
 "commandJob": ("Command job", "A single command run in an environment on a compute target."),
 "sweepJob": ("Sweep job", "Hyperparameter sweep over a command trial."),
 "sparkJob": ("Spark job", "A standalone Spark job."),
 "pipelineJob": ("Pipeline job", "A graph of jobs (nodes) wired by inputs and outputs."),
 "autoMLJob": ("AutoML job", "Automated ML for tabular, image and text tasks."),
 "schedule": ("Schedule", "Runs a job, a data import or a model monitor on a cron or recurrence trigger."),
}
HAND = {
 "binding": {"type": "string", "pattern": "\\$\\{\\{.*\\}\\}",
             "description": "A `${{...}}` data-binding expression, e.g. `${{parent.inputs.lr}}`; resolved when the pipeline runs."},
}
for k, v in HAND.items(): DEFS.setdefault("common", {})[k] = v
write_all(TITLES)
_path = OUT / "pipelineJob.schema.json"
_doc = json.loads(_path.read_text())
_jobs = _doc["properties"]["jobs"]
if "$ref" not in _jobs:
    _doc["$defs"]["pipelineJobNodes"] = _jobs
    _doc["properties"]["jobs"] = {"$ref": "#/$defs/pipelineJobNodes", "description": _jobs.get("description", "")}
    _path.write_text(json.dumps(_doc, indent=1))
