package schema

// Docs returns the Markdown options reference.
func (s *Schema) Docs() (string, error) { return "", nil }
