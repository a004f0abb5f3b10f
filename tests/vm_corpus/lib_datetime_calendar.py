"""datetime and calendar: arithmetic with timedelta, formatting/parsing, ISO weeks, month calendars, time zones (UTC offsets)."""

import calendar
from datetime import date, datetime, time, timedelta, timezone

start = date(2024, 1, 31)
print(start + timedelta(days=1), start - date(2023, 12, 25), start.replace(day=1).isoformat(), start.weekday())
print(start.isocalendar(), date.fromisoformat("2024-02-29").strftime("%A %d %B %Y"), date(2023, 2, 28).toordinal())
moment = datetime(2024, 3, 10, 14, 30, 15, 123456)
print(moment.isoformat(), moment.strftime("%Y-%m-%d %H:%M:%S.%f %p %j"), moment.timestamp() if False else "no local tz")
parsed = datetime.strptime("07/04/1976 09:15", "%m/%d/%Y %H:%M")
print(parsed, parsed.year, (moment - parsed).days, (moment - parsed) // timedelta(weeks=1))
span = timedelta(days=3, hours=25, minutes=-30, seconds=3601)
print(span, span.total_seconds(), span.days, span.seconds, -span, abs(-span), span * 2, span / 4)
utc = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
plus5 = timezone(timedelta(hours=5, minutes=30), "IST")
print(utc.astimezone(plus5), utc.astimezone(plus5).tzname(), utc == utc.astimezone(plus5), utc.utcoffset())
print(datetime.fromisoformat("2024-06-01T12:00:00+02:00").astimezone(timezone.utc))
print(time(23, 59, 59).isoformat(), time(7, 5).strftime("%I:%M %p"), datetime.combine(start, time(8, 0)))
print(calendar.isleap(2000), calendar.isleap(1900), calendar.leapdays(1900, 2024), calendar.monthrange(2024, 2))
print(calendar.month(2024, 2))
print(calendar.weekday(2024, 12, 25), calendar.day_name[calendar.weekday(2024, 12, 25)], list(calendar.month_abbr)[1:4])
cal = calendar.Calendar(firstweekday=calendar.SUNDAY)
print([d for d in cal.itermonthdays(2024, 9)][:10])
birthdays = [date(1990, 5, 17), date(1985, 12, 1), date(2000, 2, 29)]
print(sorted(birthdays), max(birthdays) - min(birthdays), [d.strftime("%b %d") for d in sorted(birthdays, key=lambda d: (d.month, d.day))])


def business_days(first, last):
    count, day = 0, first
    while day <= last:
        count += day.weekday() < 5
        day += timedelta(days=1)
    return count


print(business_days(date(2024, 1, 1), date(2024, 1, 31)), date.min, date.max.year, timedelta.resolution)
print(date(2024, 2, 30))
