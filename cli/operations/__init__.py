"""What each verb does against a workspace: spec -> uploads -> REST translation -> client calls.

One module per family; `assets` holds what every versioned asset shares. Functions take a
WorkspaceClient and return spec-shaped dicts (what `show` prints); they never print.
"""
