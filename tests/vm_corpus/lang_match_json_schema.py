"""match: validating JSON-like documents against a tiny schema language written as nested patterns."""

import json


def validate(schema, value, path="$"):
    match schema, value:
        case "any", _:
            return []
        case "int", int() if not isinstance(value, bool):
            return []
        case "str", str():
            return []
        case "bool", bool():
            return []
        case ("enum", *choices), _ if value in choices:
            return []
        case ("enum", *choices), _:
            return [f"{path}: {value!r} not in {choices}"]
        case ["list", item_schema], list(items):
            return [e for i, item in enumerate(items) for e in validate(item_schema, item, f"{path}[{i}]")]
        case ("optional", inner), None:
            return []
        case ("optional", inner), _:
            return validate(inner, value, path)
        case {"type": "object", "fields": {**fields}, **options}, dict(document):
            errors = []
            for name, field_schema in fields.items():
                if name in document:
                    errors += validate(field_schema, document[name], f"{path}.{name}")
                elif not (isinstance(field_schema, tuple) and field_schema[0] == "optional"):
                    errors.append(f"{path}: missing {name}")
            if options.get("closed"):
                errors += [f"{path}: unexpected {k}" for k in document if k not in fields]
            return errors
        case expected, _:
            kind = expected if isinstance(expected, str) else type(expected).__name__
            return [f"{path}: expected {kind}, got {type(value).__name__}"]


SCHEMA = {"type": "object", "closed": True, "fields": {
    "name": "str", "age": "int", "admin": ("optional", "bool"), "role": ("enum", "dev", "ops"),
    "tags": ["list", "str"], "address": {"type": "object", "fields": {"city": "str", "zip": ("optional", "str")}}}}

DOCUMENTS = [
    '{"name": "ann", "age": 31, "role": "dev", "tags": ["a"], "address": {"city": "Oslo"}}',
    '{"name": "bob", "age": "old", "role": "boss", "tags": ["x", 3], "address": {"zip": 123}, "extra": 1}',
    '{"name": "cy", "age": true, "admin": null, "role": "ops", "tags": [], "address": []}',
    '[1, 2, 3]',
]
for text in DOCUMENTS:
    errors = validate(SCHEMA, json.loads(text))
    print("valid" if not errors else "\n".join(errors))
    print("--")
print(validate(["list", ("enum", 1, 2)], [1, 2, 3, 2]), validate(("optional", "int"), None))
validate(None, 1)
