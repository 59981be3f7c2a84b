"""What writes into a KB repository: new-record scaffolds, CODEOWNERS, the JSON Schema and the README reference."""
