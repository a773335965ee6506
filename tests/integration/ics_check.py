#!/usr/bin/python3
"""An independent reading of an iCalendar file: the occurrences of its
events that start in a window, found without libical.

  ics_check.py FILE.ics FROM TO      (FROM, TO: seconds since the epoch, UTC)

Parsing is Debian's python3-icalendar; recurrence is python3-dateutil's
rrule, expanded on the wall clock of the event's zone and placed on the
time line with the standard library's zoneinfo (RFC 5545 §3.3.5: a time a
clock change skipped takes the offset before the gap; one that happens twice
is the earlier, PEP 495 fold=0). An UNTIL in UTC for a DTSTART with a TZID is
inclusive (§3.3.10): it is turned into the zone's wall clock and handed to
dateutil, whose UNTIL is inclusive too.

Prints one JSON list, sorted: [uid, "t", seconds] for a timed occurrence,
[uid, "d", "YYYY-MM-DD"] for an all-day one (a date, in no zone), each with
the RECURRENCE-ID overrides in place of the occurrences they replace.
Exits 77 when python3-icalendar or python3-dateutil is missing.
"""
import datetime
import json
import sys

try:
    import icalendar
    from dateutil import rrule
except ImportError as e:
    print("SKIP: %s (Debian: python3-icalendar, python3-dateutil)" % e)
    sys.exit(77)
import zoneinfo

UTC = datetime.timezone.utc


def zone_of(dt):
    """The zoneinfo zone of an aware datetime from icalendar (pytz or
    datetime.timezone), None for a floating (naive) one."""
    if dt.tzinfo is None:
        return None
    name = getattr(dt.tzinfo, "zone", None) or dt.tzname()
    if name in ("UTC", "GMT", "Z"):
        return UTC
    return zoneinfo.ZoneInfo(name)


def instant(wall, zone):
    """Seconds since the epoch of naive wall clock @wall in @zone
    (floating: read as UTC, as entrelab stores it)."""
    return int(wall.replace(tzinfo=zone or UTC, fold=0).timestamp())


def key(value, zone, time_of_day=None):
    """("t", seconds) or ("d", date) of a DATE / DATE-TIME value."""
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            return ("t", int(value.astimezone(UTC).timestamp()))
        return ("t", instant(value, zone))
    if time_of_day is not None:       # a DATE in a timed event: at DTSTART's time
        return ("t", instant(datetime.datetime.combine(value, time_of_day), zone))
    return ("d", value.isoformat())


def values(component, name):
    """Every value of a (possibly repeated, possibly multi-valued) property."""
    props = component.get(name)
    if props is None:
        return []
    if not isinstance(props, list):
        props = [props]
    out = []
    for p in props:
        for v in p.dts:
            dt = v.dt
            out.append(dt[0] if isinstance(dt, tuple) else dt)   # a PERIOD: its start
    return out


def rule_text(rec, zone, all_day):
    """The RRULE text for dateutil on naive wall clocks: UNTIL in the zone's
    wall clock."""
    parts = []
    for part in rec.to_ical().decode().split(";"):
        name, _, value = part.partition("=")
        if name.upper() == "UNTIL":
            if all_day or len(value) == 8:
                value = value[:8] + ("" if all_day else "T235959")
            elif value.endswith("Z"):
                until = datetime.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
                wall = until.astimezone(zone) if zone not in (None, UTC) else until
                value = wall.strftime("%Y%m%dT%H%M%S")
        parts.append("%s=%s" % (name, value))
    return ";".join(parts)


def occurrences(ev, lo, hi):
    start = ev.decoded("DTSTART")
    all_day = not isinstance(start, datetime.datetime)
    zone = None if all_day else zone_of(start)
    wall = datetime.datetime.combine(start, datetime.time()) if all_day \
        else start.astimezone(zone).replace(tzinfo=None) if zone else start
    tod = None if all_day else wall.time()
    found = {key(start, zone)}
    if "RRULE" in ev:
        rule = rrule.rrulestr(rule_text(ev["RRULE"], zone, all_day), dtstart=wall)
        margin = datetime.timedelta(days=2)
        lo_w = datetime.datetime.fromtimestamp(lo, UTC).replace(tzinfo=None) - margin
        hi_w = datetime.datetime.fromtimestamp(hi, UTC).replace(tzinfo=None) + margin
        for w in rule.between(lo_w, hi_w, inc=True):
            found.add(("d", w.date().isoformat()) if all_day else ("t", instant(w, zone)))
    for v in values(ev, "RDATE"):
        found.add(key(v, zone, tod))
    for v in values(ev, "EXDATE"):
        found.discard(key(v, zone, tod))
    return found


def in_window(k, lo, hi):
    if k[0] == "t":
        return lo <= k[1] < hi
    lo_d = datetime.datetime.fromtimestamp(lo, UTC).date().isoformat()
    hi_d = datetime.datetime.fromtimestamp(hi, UTC).date().isoformat()
    return lo_d <= k[1] < hi_d


def main():
    path, lo, hi = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    with open(path, "rb") as f:
        cal = icalendar.Calendar.from_ical(f.read())
    masters, overrides = {}, []
    for ev in cal.walk("VEVENT"):
        if "RECURRENCE-ID" in ev:
            overrides.append(ev)
        else:
            masters[str(ev["UID"])] = ev
    out = []
    for uid, ev in masters.items():
        found = occurrences(ev, lo, hi)
        start = ev.decoded("DTSTART")
        zone = zone_of(start) if isinstance(start, datetime.datetime) else None
        for o in overrides:
            if str(o["UID"]) == uid:
                found.discard(key(o.decoded("RECURRENCE-ID"), zone))
        out += [[uid, k[0], k[1]] for k in found if in_window(k, lo, hi)]
    for o in overrides:
        start = o.decoded("DTSTART")
        k = key(start, zone_of(start) if isinstance(start, datetime.datetime) else None)
        if in_window(k, lo, hi):
            out.append([str(o["UID"]), k[0], k[1]])
    print(json.dumps(sorted(out, key=lambda r: (r[0], r[1], str(r[2])))))


if __name__ == "__main__":
    main()
