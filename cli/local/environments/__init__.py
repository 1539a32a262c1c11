"""Job environments: what an environment asks for, and the venv that gives it.

    definition.py   Definition: a Python version and pip requirements, plus notices for what is left out
    sources.py      conda files, requirements files, Dockerfiles and build contexts -> Definition
    curated.py      Azure ML's curated environments, from the definitions shipped in curated/
    pythons.py      the interpreters on this machine, and the one closest to a wanted version
    builder.py      one venv per Definition hash under $ML_HOME/envs, built once under a lock
"""
