package schema

func (s *Schema) compile() (*node, error) { return nil, nil }

type node struct{}
