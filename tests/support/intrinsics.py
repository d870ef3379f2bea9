"""Turn template values into what CloudFormation hands on: intrinsic functions resolved, property shapes kept."""
import re

_SUB_VARIABLE = re.compile(r"\$\{([^}!]+)\}")


def resolve(value, names: dict):
    """`names` maps Ref targets and GetAtt targets ("Resource.Attribute") to values; anything else fails."""
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return _lookup(names, value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            return _lookup(names, ".".join(target) if isinstance(target, list) else target)
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            return _SUB_VARIABLE.sub(lambda match: _lookup(names, match[1]), value["Fn::Sub"])
        unsupported = [key for key in value if key.startswith("Fn::")]
        assert not unsupported, f"the tests cannot resolve {unsupported} in {value}"
        return {key: resolve(inner, names) for key, inner in value.items()}
    if isinstance(value, list):
        return [resolve(inner, names) for inner in value]
    return value


def custom_resource_properties(properties: dict, names: dict) -> dict:
    """ResourceProperties as a custom resource receives them: resolved, every scalar turned into a string."""
    return _stringified(resolve(properties, names))


def api_shape(value):
    """CloudFormation's PascalCase property names as the ECS API's camelCase (Essential -> essential)."""
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: api_shape(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [api_shape(inner) for inner in value]
    return value


def _stringified(value):
    if isinstance(value, dict):
        return {key: _stringified(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_stringified(inner) for inner in value]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _lookup(names, name):
    assert name in names, f"the template refers to {name!r}, which CloudFormation would not resolve here"
    return names[name]
