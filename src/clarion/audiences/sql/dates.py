"""ISO 8601 instants parsed in SQL, character by character, like `clarion.model.durations`.

No engine's own date parser is used: SQLite accepts `2023-02-30`, PostgreSQL
raises on bad input, DuckDB has its own rules. Instead the shape is matched
(`INSTANT_SHAPES`), then the digits are read at fixed positions and checked
against the calendar with integer arithmetic (Hinnant's `days_from_civil`).
Every cast sits inside a CASE whose condition guarantees digits, so that
PostgreSQL never casts a bad string. The string is a short column reference
(see `let`), read as many times as needed.
"""

from __future__ import annotations

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


class InstantSql:
    """The parse of one string (a short expression, read many times) as an ISO 8601 instant."""

    def __init__(self, dialect: SqlDialect, string: exp.Expr) -> None:
        self.d = dialect
        self.cal = CalendarSql(dialect)
        self.s = string

    def _at(self, start: int | exp.Expr, length: int | exp.Expr) -> exp.Expr:
        begin = number(start) if isinstance(start, int) else start
        size = number(length) if isinstance(length, int) else length
        return exp.Substring(this=self.s.copy(), start=begin, length=size)

    def _int(self, start: int | exp.Expr, length: int | exp.Expr) -> exp.Expr:
        return cast(self._at(start, length), "BIGINT")

    def _from_end(self, back: int) -> exp.Expr:
        return sub(self.length, number(back))

    @property
    def length(self) -> exp.Expr:
        """Its number of characters."""
        return exp.Length(this=self.s.copy())

    @property
    def year(self) -> exp.Expr:
        """The year as written."""
        return self._int(1, 4)

    @property
    def month(self) -> exp.Expr:
        """The month as written."""
        return self._int(6, 2)

    @property
    def day(self) -> exp.Expr:
        """The day as written."""
        return self._int(9, 2)

    def _zone_length(self) -> exp.Expr:
        return cases(
            [
                (eq(self._at(self.length, 1), text("Z")), number(1)),
                (one_of(self._at(self._from_end(5), 1), [text("+"), text("-")]), number(6)),
            ],
            number(0),
        )

    def _time_ok(self) -> exp.Expr:
        zone_ok = when(
            eq(self._zone_length(), number(6)),
            all_of(
                lte(self._int(self._from_end(4), 2), number(23)),
                lte(self._int(self._from_end(1), 2), number(59)),
            ),
            exp.true(),
        )
        return all_of(
            lte(self._int(12, 2), number(23)),
            lte(self._int(15, 2), number(59)),
            lte(self._int(18, 2), number(59)),
            zone_ok,
        )

    def valid(self) -> exp.Expr:
        """True for a real instant of the grammar; NULL or false otherwise."""
        date_ok = all_of(
            gte(self.year, number(1)),
            exp.Between(this=self.month, low=number(1), high=number(12)),
            exp.Between(
                this=self.day, low=number(1), high=self.cal.days_in_month(self.year, self.month)
            ),
        )
        checks = all_of(date_ok, when(eq(self.length, number(10)), exp.true(), self._time_ok()))
        return when(self.d.matches_shapes(self.s, INSTANT_SHAPES), checks)

    def _seconds_of_day(self) -> exp.Expr:
        sign = when(eq(self._at(self._from_end(5), 1), text("+")), number(1), number(-1))
        zone = add(
            mul(self._int(self._from_end(4), 2), number(3600)),
            mul(self._int(self._from_end(1), 2), number(60)),
        )
        offset = when(eq(self._zone_length(), number(6)), mul(sign, zone), number(0))
        clock = add(
            mul(self._int(12, 2), number(3600)), mul(self._int(15, 2), number(60)), self._int(18, 2)
        )
        return sub(clock, offset)

    def _fraction(self) -> exp.Expr:
        digits = when(
            eq(self._at(20, 1), text(".")),
            sub(sub(self.length, number(20)), self._zone_length()),
            number(0),
        )
        scale = exp.Case(
            this=digits.copy(),
            ifs=[exp.If(this=number(n), true=number(10 ** (6 - n))) for n in range(1, 7)],
        )
        return when(gt(digits.copy(), number(0)), mul(self._int(21, digits), scale), number(0))

    def micros(self) -> exp.Expr:
        """Microseconds since the epoch; NULL unless `valid()`."""
        days = self.cal.days_from_civil(self.year, self.month, self.day)
        date_only = eq(self.length, number(10))
        seconds = add(mul(days, number(86_400)), when(date_only, number(0), self._seconds_of_day()))
        fraction = when(eq(self.length, number(10)), number(0), self._fraction())
        return when(self.valid(), add(mul(seconds, number(1_000_000)), fraction))
