#!/usr/bin/env bash
# Train the model, deploy it twice behind one endpoint (blue 90% / green 10%), score the sample request.
# The same commands run against Azure ML with `az ml` (or `ml` pointed at a workspace).
set -euo pipefail
cd "$(dirname "$0")"
ML=${ML:-ml}

job=$($ML job create -f train-job.yml --query name -o tsv)
$ML job stream -n "$job"
$ML online-endpoint create -f endpoint.yml -o none
$ML online-deployment create -f blue-deployment.yml --all-traffic -o none
$ML online-deployment create -f green-deployment.yml -o none
$ML online-endpoint update -n sklearn-diabetes --traffic "blue=90 green=10" --query traffic
$ML online-endpoint invoke -n sklearn-diabetes --request-file sample-request.json
$ML online-endpoint invoke -n sklearn-diabetes --deployment-name green --request-file sample-request.json
scoring_uri=$($ML online-endpoint show -n sklearn-diabetes --query scoring_uri -o tsv)
key=$($ML online-endpoint get-credentials -n sklearn-diabetes --query primaryKey -o tsv)
curl -s -H "Authorization: Bearer $key" -H "Content-Type: application/json" -d @sample-request.json "$scoring_uri"; echo
$ML online-deployment get-logs -n blue -e sklearn-diabetes --lines 5
if [ "${KEEP:-}" != "1" ]; then $ML online-endpoint delete -n sklearn-diabetes --yes; fi
