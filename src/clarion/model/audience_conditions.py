"""Conditions of the audience language: a path, an operator and a value.

A `Condition` tests one value found at a dotted `path` (a trait, an event
property, a column, a context value). Which values each operator takes:

| operator | value |
|---|---|
| `eq`, `ne`, `contains` | a string, a number or a boolean |
| `lt`, `lte`, `gt`, `gte` | a string or a number |
| `in`, `not_in` | a non-empty list of strings, numbers, booleans |
| `starts_with`, `ends_with` | a string |
| `between` | `[low, high]`, two numbers or two strings, `low <= high` |
| `exists`, `not_exists` | none |
| `before`, `after` | an ISO 8601 instant, or a window standing for an instant (1) |
| `within_last` | a `{last: ...}` window or a duration string |
| `within_next`, `anniversary_within_next` | a `{next: ...}` window or a duration string |

(1) `{last: 30, unit: days}` stands for `now - 30d`, `{next: ...}` for `now + ...`.

The meaning of each operator (type-strict, the same in every engine) is
documented in `clarion.audiences.semantics`.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from clarion.model.durations import (
    FutureWindow,
    LastWindow,
    NextWindow,
    PastWindow,
    parse_instant,
    window_kind,
)

Operator = Literal[
    "eq",
    "ne",
    "lt",
    "lte",
    "gt",
    "gte",
    "in",
    "not_in",
    "contains",
    "starts_with",
    "ends_with",
    "exists",
    "not_exists",
    "between",
    "before",
    "after",
    "within_last",
    "within_next",
    "anniversary_within_next",
]
OPERATORS: tuple[str, ...] = get_args(Operator)
DATE_OPERATORS = frozenset(
    {"before", "after", "within_last", "within_next", "anniversary_within_next"}
)
"""Operators whose subject is an ISO 8601 instant string."""

CountOperator = Literal["eq", "ne", "lt", "lte", "gt", "gte"]
COUNT_OPERATORS: tuple[str, ...] = get_args(CountOperator)

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr


def value_kind(value: Any) -> str | None:
    """The tag of a condition value (tags start `value:` or `window:`; paths leave them out)."""
    if value is None:
        return "value:null"
    for python_type, tag in (
        (bool, "value:boolean"),
        (int, "value:integer"),
        (float, "value:number"),
    ):
        if isinstance(value, python_type):
            return tag
    if isinstance(value, str):
        return "value:string"
    if isinstance(value, list):
        return "value:list"
    found = window_kind(value)
    return found if found in ("window:last", "window:next") else None


ConditionValue = Annotated[
    Annotated[StrictBool, Tag("value:boolean")]
    | Annotated[StrictInt, Tag("value:integer")]
    | Annotated[StrictFloat, Tag("value:number")]
    | Annotated[StrictStr, Tag("value:string")]
    | Annotated[list[Scalar], Tag("value:list")]
    | Annotated[LastWindow, Tag("window:last")]
    | Annotated[NextWindow, Tag("window:next")]
    | Annotated[None, Tag("value:null")],
    Discriminator(
        value_kind,
        custom_error_type="condition_value",
        custom_error_message="a value is a string, a number, a boolean, a list of those"
        " or a window ({last: N, unit} / {next: N, unit})",
    ),
]
"""What a condition's `value` may be before the operator narrows it."""

MAX_PATH_SEGMENTS = 10
MAX_LIST = 1000


def check_path(path: str) -> str:
    """A dotted path: non-empty segments without `"`, `\\` or control characters."""
    segments = path.split(".")
    if len(path) > 300 or len(segments) > MAX_PATH_SEGMENTS:
        raise ValueError(f"a path has at most {MAX_PATH_SEGMENTS} segments and 300 characters")
    for segment in segments:
        if not segment:
            raise ValueError(f"path {path!r} has an empty segment")
        if any(c in '"\\' or ord(c) < 0x20 or ord(c) == 0x7F for c in segment):
            raise ValueError(
                f"path {path!r}: a segment cannot hold quotes, backslashes or controls"
            )
    return path


def _op(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    if isinstance(value, str) and value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; expected one of: {', '.join(allowed)}")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _finite(value: Any) -> Any:
    if _is_number(value):
        try:
            finite = math.isfinite(float(value))
        except OverflowError:
            finite = False
        if not finite:
            raise ValueError("numbers must be finite and within the range of a double")
    return value


_PAST: TypeAdapter[LastWindow] = TypeAdapter(PastWindow)
_FUTURE: TypeAdapter[NextWindow] = TypeAdapter(FutureWindow)


def _window(adapter: TypeAdapter[Any], value: Any) -> Any:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        reason = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ValueError(f"expected a window ({reason})") from None


def check_value(op: str, value: Any) -> Any:
    """The value normalised for `op`, or ValueError saying what `op` expects."""
    if op in ("exists", "not_exists"):
        if value is not None:
            raise ValueError(f"`{op}` takes no value")
        return None
    if op in ("within_last",):
        return _window(_PAST, value)
    if op in ("within_next", "anniversary_within_next"):
        return _window(_FUTURE, value)
    if op in ("before", "after"):
        if isinstance(value, LastWindow | NextWindow):
            return value
        if not isinstance(value, str) or parse_instant(value) is None:
            raise ValueError(
                f"`{op}` takes an ISO 8601 date or date-time (2026-01-31, 2026-01-31T09:00:00Z)"
                " or a window ({last: 30, unit: days} for 30 days ago)"
            )
        return value
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value or len(value) > MAX_LIST:
            raise ValueError(f"`{op}` takes a list of 1 to {MAX_LIST} strings, numbers, booleans")
        return [_finite(v) for v in value]
    if op == "between":
        both_numbers = isinstance(value, list) and len(value) == 2 and all(map(_is_number, value))
        both_strings = (
            isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)
        )
        if not (both_numbers or both_strings):
            raise ValueError("`between` takes [low, high]: two numbers or two strings")
        if value[0] > value[1]:
            raise ValueError("`between` needs low <= high")
        return [_finite(v) for v in value]
    if op in ("starts_with", "ends_with"):
        if not isinstance(value, str):
            raise ValueError(f"`{op}` takes a string")
        return value
    if op in ("lt", "lte", "gt", "gte"):
        if not (isinstance(value, str) or _is_number(value)):
            raise ValueError(f"`{op}` takes a string or a number")
        return _finite(value)
    if not isinstance(value, str | int | float):  # eq, ne, contains (bool is an int)
        raise ValueError(f"`{op}` takes a string, a number or a boolean")
    return _finite(value)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Condition(_Strict):
    """`{path, op, value}`: a test of the value at a dotted path."""

    path: Annotated[str, Field(min_length=1)]
    op: Annotated[Operator, BeforeValidator(lambda v: _op(v, OPERATORS, "operator"))]
    value: ConditionValue = None

    @field_validator("path")
    @classmethod
    def _path(cls, path: str) -> str:
        return check_path(path)

    @field_validator("value")
    @classmethod
    def _value(cls, value: Any, info: ValidationInfo) -> Any:
        op = info.data.get("op")
        return value if op is None else check_value(op, value)


class CountCondition(_Strict):
    """How many matching events: `{op: gte, value: 2}`; a bare number N means `gte N`."""

    op: Annotated[CountOperator, BeforeValidator(lambda v: _op(v, COUNT_OPERATORS, "operator"))]
    value: Annotated[StrictInt, Field(ge=0, le=1_000_000_000)]

    @model_validator(mode="before")
    @classmethod
    def _bare(cls, data: Any) -> Any:
        return {"op": "gte", "value": data} if isinstance(data, int) else data

    def holds(self, count: int) -> bool:
        """True when `count` satisfies the condition."""
        return compare_counts(self.op, count, self.value)


AT_LEAST_ONCE = CountCondition(op="gte", value=1)


def compare_counts(op: str, left: int | float, right: int | float) -> bool:
    """`left <op> right` for the count operators."""
    if op == "eq":
        return left == right
    if op == "ne":
        return left != right
    if op == "lt":
        return left < right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    return left >= right
