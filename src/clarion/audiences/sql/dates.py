"""ISO 8601 instants parsed in SQL, character by character, like `clarion.model.durations`.

No engine's own date parser is used: SQLite accepts `2023-02-30`, PostgreSQL
raises on bad input, DuckDB has its own rules. Instead the shape is matched
(`INSTANT_SHAPES`), then the digits are read at fixed positions and checked
against the calendar with integer arithmetic (Hinnant's `days_from_civil`).
Every cast sits inside a CASE whose condition guarantees digits, so that
PostgreSQL never casts a bad string.
"""

from __future__ import annotations

from sqlglot import exp

from clarion.audiences.sql.dialects import SqlDialect, text
from clarion.model.durations import INSTANT_SHAPES


def n(value: int) -> exp.Expr:
    """An integer constant of the calendar arithmetic."""
    return exp.Literal.number(value)


def _when(condition: exp.Expr, then: exp.Expr, otherwise: exp.Expr) -> exp.Case:
    return exp.Case().when(condition, then).else_(otherwise)


def _sub(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Paren(this=exp.Sub(this=a, expression=b))


def _add(*terms: exp.Expr) -> exp.Expr:
    total = terms[0]
    for term in terms[1:]:
        total = exp.Add(this=total, expression=term)
    return exp.Paren(this=total)


def _mul(a: exp.Expr, b: exp.Expr) -> exp.Expr:
    return exp.Paren(this=exp.Mul(this=a, expression=b))


class CalendarSql:
    """Calendar arithmetic in one dialect."""

    def __init__(self, dialect: SqlDialect) -> None:
        self.d = dialect

    def div(self, a: exp.Expr, b: int) -> exp.Expr:
        """Integer division by a constant (operands are never negative)."""
        return exp.Paren(this=self.d.int_div(a, n(b)))

    def is_leap(self, year: exp.Expr) -> exp.Expr:
        """Gregorian leap year."""
        by = [exp.Mod(this=year, expression=n(k)) for k in (4, 100, 400)]
        return exp.Paren(this=exp.or_(exp.and_(by[0].eq(0), by[1].neq(0)), by[2].eq(0)))

    def days_in_month(self, year: exp.Expr, month: exp.Expr) -> exp.Expr:
        """28 to 31."""
        return (
            exp.Case()
            .when(month.eq(2), _when(self.is_leap(year), n(29), n(28)))
            .when(month.isin(n(4), n(6), n(9), n(11)), n(30))
            .else_(n(31))
        )

    def days_from_civil(self, year: exp.Expr, month: exp.Expr, day: exp.Expr) -> exp.Expr:
        """Days since 1970-01-01 of a date with year >= 1."""
        y = _sub(year, _when(month.copy() <= n(2), n(1), n(0)))
        era = self.div(y, 400)
        year_of_era = _sub(y.copy(), _mul(era, n(400)))
        shifted_month = _when(
            month.copy() > n(2), _sub(month.copy(), n(3)), _add(month.copy(), n(9))
        )
        day_of_year = _sub(_add(self.div(_add(_mul(n(153), shifted_month), n(2)), 5), day), n(1))
        day_of_era = _add(
            _mul(year_of_era, n(365)),
            self.div(year_of_era.copy(), 4),
            exp.Neg(this=self.div(year_of_era.copy(), 100)),
            day_of_year,
        )
        return _sub(_add(_mul(era.copy(), n(146_097)), day_of_era), n(719_468))


class InstantSql:
    """The parse of one string expression as an ISO 8601 instant."""

    def __init__(self, dialect: SqlDialect, string: exp.Expr) -> None:
        self.d = dialect
        self.cal = CalendarSql(dialect)
        self.s = string

    def _int(self, start: int | exp.Expr, length: int | exp.Expr) -> exp.Expr:
        begin = n(start) if isinstance(start, int) else start
        size = n(length) if isinstance(length, int) else length
        return exp.cast(exp.Substring(this=self.s.copy(), start=begin, length=size), "BIGINT")

    def _char(self, start: int | exp.Expr) -> exp.Expr:
        begin = n(start) if isinstance(start, int) else start
        return exp.Substring(this=self.s.copy(), start=begin, length=n(1))

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
        at_end = self._char(self.length)
        sign = self._char(_sub(self.length, n(5)))
        return (
            exp.Case()
            .when(at_end.eq(text("Z")), n(1))
            .when(sign.isin(text("+"), text("-")), n(6))
            .else_(n(0))
        )

    def _time_ok(self) -> exp.Expr:
        zone = self._zone_length()
        zone_ok = _when(
            zone.eq(6),
            exp.and_(
                self._int(_sub(self.length, n(4)), 2) <= n(23),
                self._int(_sub(self.length, n(1)), 2) <= n(59),
            ),
            exp.true(),
        )
        clock_ok = exp.and_(self._int(12, 2) <= n(23), self._int(15, 2) <= n(59))
        return exp.and_(clock_ok, self._int(18, 2) <= n(59), zone_ok)

    def valid(self) -> exp.Expr:
        """True for a real instant of the grammar; NULL or false otherwise."""
        date_ok = exp.and_(
            self.year >= n(1),
            exp.Between(this=self.month, low=n(1), high=n(12)),
            exp.Between(
                this=self.day,
                low=n(1),
                high=self.cal.days_in_month(self.year, self.month),
            ),
        )
        checks = exp.and_(date_ok, _when(self.length.eq(10), exp.true(), self._time_ok()))
        return exp.Case().when(self.d.matches_shapes(self.s.copy(), INSTANT_SHAPES), checks)

    def _seconds_of_day(self) -> exp.Expr:
        zone = self._zone_length()
        sign = _when(self._char(_sub(self.length, n(5))).eq(text("+")), n(1), n(-1))
        offset = _when(
            zone.eq(6),
            _mul(
                sign,
                _add(
                    _mul(self._int(_sub(self.length, n(4)), 2), n(3600)),
                    _mul(self._int(_sub(self.length, n(1)), 2), n(60)),
                ),
            ),
            n(0),
        )
        clock = _add(
            _mul(self._int(12, 2), n(3600)), _mul(self._int(15, 2), n(60)), self._int(18, 2)
        )
        return _sub(clock, offset)

    def _fraction(self) -> exp.Expr:
        zone = self._zone_length()
        digits = _when(
            self._char(20).eq(text(".")),
            _sub(_sub(self.length, n(20)), zone),
            n(0),
        )
        scale = exp.Case(this=digits.copy())
        for count in range(1, 7):
            scale = scale.when(n(count), n(10 ** (6 - count)))
        return _when(digits > n(0), _mul(self._int(21, digits.copy()), scale), n(0))

    def micros(self) -> exp.Expr:
        """Microseconds since the epoch; NULL unless `valid()`."""
        days = self.cal.days_from_civil(self.year, self.month, self.day)
        seconds = _when(
            self.length.eq(10),
            _mul(days, n(86_400)),
            _add(_mul(days.copy(), n(86_400)), self._seconds_of_day()),
        )
        value = _add(
            _mul(seconds, n(1_000_000)),
            _when(self.length.eq(10), n(0), self._fraction()),
        )
        return exp.Case().when(self.valid(), value)
