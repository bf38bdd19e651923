"""ISO 8601 instants parsed in SQL, character by character, like `clarion.model.durations`.

No engine's own date parser is used: SQLite accepts `2023-02-30`, PostgreSQL
raises on bad input, DuckDB has its own rules. Instead the shape is matched
(`INSTANT_SHAPES`), then the digits are read at fixed positions and checked
against the calendar with integer arithmetic (Hinnant's `days_from_civil`).
Every cast sits inside a CASE whose condition guarantees digits, so that
PostgreSQL never casts a bad string. The fields are computed once per row in
nested derived tables, so the SQL stays small.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlglot import exp

from clarion.audiences.sql.build import (
    all_of,
    cases,
    cast,
    eq,
    gt,
    gte,
    lte,
    number,
    one_of,
    query,
    text,
    when,
)
from clarion.audiences.sql.dialects import SqlDialect
from clarion.model.durations import INSTANT_SHAPES


def _paren(value: exp.Expr) -> exp.Expr:
    return exp.Paren(this=value)


def add(*terms: exp.Expr) -> exp.Expr:
    """`(a + b + ...)`."""
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return _paren(total)


def sub(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`(left - right)`."""
    return _paren(exp.Sub(this=left, expression=right))


def mul(left: exp.Expr, right: exp.Expr) -> exp.Expr:
    """`(left * right)`."""
    return _paren(exp.Mul(this=left, expression=right))


class CalendarSql:
    """Calendar arithmetic in one dialect (arguments are consumed, not copied)."""

    def __init__(self, dialect: SqlDialect) -> None:
        self.d = dialect

    def div(self, value: exp.Expr, by: int) -> exp.Expr:
        """Integer division by a constant (operands are never negative)."""
        return _paren(self.d.int_div(value, number(by)))

    def is_leap(self, year: exp.Expr) -> exp.Expr:
        """Gregorian leap year (reads `year` three times)."""
        by = [exp.Mod(this=year.copy(), expression=number(k)) for k in (4, 100, 400)]
        divisible = all_of(eq(by[0], number(0)), exp.NEQ(this=by[1], expression=number(0)))
        return _paren(exp.or_(divisible, eq(by[2], number(0)), copy=False))

    def days_in_month(self, year: exp.Expr, month: exp.Expr) -> exp.Expr:
        """28 to 31."""
        long_months = [number(m) for m in (4, 6, 9, 11)]
        return cases(
            [
                (eq(month.copy(), number(2)), when(self.is_leap(year), number(29), number(28))),
                (one_of(month.copy(), long_months), number(30)),
            ],
            number(31),
        )

    def days_from_civil(self, year: exp.Expr, month: exp.Expr, day: exp.Expr) -> exp.Expr:
        """Days since 1970-01-01 of a date with year >= 1 (reads `year`/`month` many times)."""
        y = sub(year.copy(), when(lte(month.copy(), number(2)), number(1), number(0)))
        era = self.div(y.copy(), 400)
        year_of_era = sub(y, mul(era.copy(), number(400)))
        shifted = when(
            gt(month.copy(), number(2)), sub(month.copy(), number(3)), add(month.copy(), number(9))
        )
        day_of_year = sub(
            add(self.div(add(mul(number(153), shifted), number(2)), 5), day.copy()), number(1)
        )
        day_of_era = add(
            mul(year_of_era.copy(), number(365)),
            self.div(year_of_era.copy(), 4),
            exp.Neg(this=self.div(year_of_era.copy(), 100)),
            day_of_year,
        )
        return sub(add(mul(era, number(146_097)), day_of_era), number(719_468))


class InstantFields:
    """The fields of a parsed instant string, as short column references.

    `instant_sql` computes them in nested derived tables, once per row: the
    shape test and the length first, then every digit group cast to an integer
    (only where the shape guarantees digits), so that `valid()` and `micros()`
    read plain columns.
    """

    def __init__(self, dialect: SqlDialect, alias: str) -> None:
        self.cal = CalendarSql(dialect)
        self.alias = alias

    def __getattr__(self, name: str) -> exp.Expr:
        return exp.column(name, self.alias)

    def valid(self) -> exp.Expr:
        """True for a real instant of the grammar; NULL or false otherwise."""
        f = self
        zone_ok = when(
            eq(f.zone, number(6)),
            all_of(lte(f.zone_hours, number(23)), lte(f.zone_minutes, number(59))),
            exp.true(),
        )
        time_ok = all_of(
            lte(f.hours, number(23)),
            lte(f.minutes, number(59)),
            lte(f.seconds, number(59)),
            zone_ok,
        )
        return all_of(
            f.ok,
            gte(f.year, number(1)),
            exp.Between(this=f.month, low=number(1), high=number(12)),
            exp.Between(this=f.day, low=number(1), high=self.cal.days_in_month(f.year, f.month)),
            when(eq(f.length, number(10)), exp.true(), time_ok),
        )

    def micros(self) -> exp.Expr:
        """Microseconds since the epoch; NULL unless `valid()`."""
        f = self
        offset = when(
            eq(f.zone, number(6)),
            mul(f.sign, add(mul(f.zone_hours, number(3600)), mul(f.zone_minutes, number(60)))),
            number(0),
        )
        clock = add(mul(f.hours, number(3600)), mul(f.minutes, number(60)), f.seconds)
        time_of_day = when(eq(f.length, number(10)), number(0), sub(clock, offset))
        days = self.cal.days_from_civil(f.year, f.month, f.day)
        scale = exp.Case(
            this=f.fraction_digits,
            ifs=[exp.If(this=number(n), true=number(10 ** (6 - n))) for n in range(1, 7)],
        )
        fraction = when(gt(f.fraction_digits, number(0)), mul(f.fraction, scale), number(0))
        seconds = add(mul(days, number(86_400)), time_of_day)
        return when(self.valid(), add(mul(seconds, number(1_000_000)), fraction))


def _derived(columns: dict[str, exp.Expr], source: exp.Expr | None, alias: str) -> exp.Expr:
    select = query([exp.alias_(value, name, copy=False) for name, value in columns.items()], source)
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(alias)))


def instant_sql(
    dialect: SqlDialect,
    string: exp.Expr,
    aliases: tuple[str, str, str],
    body: Callable[[InstantFields], exp.Expr],
) -> exp.Expr:
    """`body` over the parse of `string`: a scalar subquery evaluated once per row."""
    raw, checked, parsed = aliases

    def col(name: str, alias: str) -> exp.Expr:
        return exp.column(name, alias)

    def x() -> exp.Expr:
        return col("x", raw)

    def n() -> exp.Expr:
        return exp.Length(this=col("x", raw))

    def char(start: exp.Expr) -> exp.Expr:
        return exp.Substring(this=x(), start=start, length=number(1))

    zone = cases(
        [
            (eq(char(n()), text("Z")), number(1)),
            (one_of(char(sub(n(), number(5))), [text("+"), text("-")]), number(6)),
        ],
        number(0),
    )
    level_one = _derived(
        {"x": x(), "ok": dialect.matches_shapes(x(), INSTANT_SHAPES), "length": n(), "zone": zone},
        _derived({"x": string}, None, raw),
        checked,
    )

    def c(name: str) -> exp.Expr:
        return col(name, checked)

    def digits(start: int | exp.Expr, size: int | exp.Expr, *guards: exp.Expr) -> exp.Expr:
        begin = number(start) if isinstance(start, int) else start
        length = number(size) if isinstance(size, int) else size
        value = cast(exp.Substring(this=c("x"), start=begin, length=length), "BIGINT")
        return when(all_of(c("ok"), *guards), value)

    timed = gt(c("length"), number(10))
    has_fraction = all_of(
        gt(c("length"), number(10)),
        eq(exp.Substring(this=c("x"), start=number(20), length=number(1)), text(".")),
    )
    fraction_digits = sub(sub(c("length"), number(20)), c("zone"))
    fields = {
        "ok": c("ok"),
        "length": c("length"),
        "zone": c("zone"),
        "year": digits(1, 4),
        "month": digits(6, 2),
        "day": digits(9, 2),
        "hours": digits(12, 2, timed),
        "minutes": digits(15, 2, gt(c("length"), number(10))),
        "seconds": digits(18, 2, gt(c("length"), number(10))),
        "zone_hours": digits(sub(c("length"), number(4)), 2, eq(c("zone"), number(6))),
        "zone_minutes": digits(sub(c("length"), number(1)), 2, eq(c("zone"), number(6))),
        "sign": when(
            eq(
                exp.Substring(this=c("x"), start=sub(c("length"), number(5)), length=number(1)),
                text("+"),
            ),
            number(1),
            number(-1),
        ),
        "fraction_digits": when(has_fraction.copy(), fraction_digits.copy(), number(0)),
        "fraction": digits(21, fraction_digits, has_fraction),
    }
    level_two = _derived(fields, level_one, parsed)
    return exp.Subquery(this=query([body(InstantFields(dialect, parsed))], level_two))
