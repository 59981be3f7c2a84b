"""What writes into a KB repository: new-record scaffolds, CODEOWNERS, the JSON Schema, `kedb init` and `kedb upgrade`."""
