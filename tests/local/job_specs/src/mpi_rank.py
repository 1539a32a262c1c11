"""Writes <output>/<rank>.txt with the MPI rank it was started as."""
import os
import sys

rank = os.environ.get("OMPI_COMM_WORLD_RANK") or os.environ.get("PMI_RANK")
with open(os.path.join(sys.argv[1], f"{rank}.txt"), "w") as f:
    f.write(os.environ["AZUREML_RUN_ID"])
