// JSONSchemaKit: see ARCHITECTURE.md for this target's job.
