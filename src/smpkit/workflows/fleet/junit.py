"""The campaign report as JUnit XML, for CI farms: one test case per device."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from smpkit.workflows.fleet.model import FAILED, SKIPPED, CampaignReport


def junit_xml(report: CampaignReport, suite: str = "smpkit fleet") -> bytes:
    summary = report.summary()
    root = ET.Element("testsuites")
    cases = ET.SubElement(root, "testsuite", name=suite, tests=str(len(report.results)),
                          failures=str(summary[FAILED]), skipped=str(summary[SKIPPED]), errors="0",
                          time=f"{sum(r.seconds for r in report.results):.3f}")
    for result in report.results:
        case = ET.SubElement(cases, "testcase", classname=result.host or "local", name=result.name,
                             time=f"{result.seconds:.3f}")
        if result.outcome == FAILED:
            ET.SubElement(case, "failure", message=result.error or "failed").text = result.error or ""
        elif result.outcome == SKIPPED:
            ET.SubElement(case, "skipped", message=result.error or "skipped")
        else:
            ET.SubElement(case, "system-out").text = f"{result.outcome} {result.version or ''} {result.hash or ''}"
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))


def write_junit(report: CampaignReport, path: Path, suite: str = "smpkit fleet") -> None:
    Path(path).write_bytes(junit_xml(report, suite))
