"""`rollout import umd`: EGI's real release history becomes a valid repository, once and for all.

The history is read as it is from shared/data/umd-history beside the project
checkout. The expected texts below were written by hand from the source JSON
files named beside them, not produced by the converter.
"""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from rollout_tool.importing import umd
from tests.support.repos import Repo, build_repo, run_rollout

# Beside the project checkout, as CI lays it; UMD_HISTORY names another copy (a git worktree elsewhere).
DATA = Path(os.environ.get("UMD_HISTORY") or Path(__file__).parents[2] / "shared/data/umd-history")
TODAY = "2024-06-01"


def run_import(out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_rollout("import", "umd", str(DATA), "--out", str(out), *extra, cwd=out.parent)


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> tuple[Repo, subprocess.CompletedProcess[str]]:
    root = tmp_path_factory.mktemp("umd") / "repo"
    root.mkdir()
    result = run_import(root, "--coordinator", "egi-coordinator", "--bot", "rollout-bot")
    repo = Repo(root)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    repo.git("config", "user.email", "tests@example.org")
    repo.git("config", "user.name", "tests")
    repo.commit("import")
    return repo, result


def notes(repo: Repo, name: str, *extra: str) -> str:
    result = repo.rollout("notes", name, *extra, "--today", TODAY)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_whole_import_validates(imported: tuple[Repo, subprocess.CompletedProcess[str]]) -> None:
    repo, result = imported
    assert result.returncode == 0, result.stderr
    releases = list((repo.root / "releases").glob("*/*/release.yaml"))
    distributions = list((repo.root / "distributions").glob("*/*.yaml"))
    # 981 product-release files name 872 distinct releases; 132 distribution releases, UMD 5.0.0 left out.
    assert len(releases) == 872
    assert len(distributions) == 131
    checked = repo.rollout("validate", "--format", "json")
    assert checked.returncode == 0, checked.stdout[:2000]
    assert json.loads(checked.stdout)["problems"] == []


def test_reimport_changes_no_file(imported: tuple[Repo, subprocess.CompletedProcess[str]]) -> None:
    repo, _ = imported
    again = run_import(repo.root)
    assert again.returncode == 0, again.stderr
    assert " 0 written" in again.stdout
    assert repo.git("status", "--porcelain", "--untracked-files=all") == ""


def test_a_release_shipped_in_three_distributions_is_one_record(
    imported: tuple[Repo, subprocess.CompletedProcess[str]],
) -> None:
    repo, _ = imported
    record = yaml.safe_load((repo.root / "releases/apel.apel-ssm/2.1.7/release.yaml").read_text())
    assert record["summary"] == "apel.apel-ssm 2.1.7, shipped in CMD-ONE 1.0.0, CMD-OS 1.1.0, UMD 4.5.0"
    # The earliest copy (CMD-OS 1.1.0, 2017-06-13) is the one the record says it came from.
    assert record["source"] == "products/CMD-OS/1.1.0/apel.apel-ssm2.1.7.json"
    assert [entry["note"] for entry in record["history"]] == [umd.IMPORTED_NOTE, umd.IMPORTED_NOTE]
    for path in ("CMD-ONE/1.0.0", "CMD-OS/1.1.0", "UMD/4.5.0"):
        distribution = yaml.safe_load((repo.root / f"distributions/{path.lower()}.yaml").read_text())
        assert {"release": "apel.apel-ssm/2.1.7", "status": "released"} in distribution["releases"]


# (release, source file, text the notes must carry), read by hand from the source.
REAL_NOTES = [
    (
        "emi.bdii-site/1.0.0",  # products/UMD/1.0.0/emi.bdii-site1.0.0.json, 2011
        "What's new:\n\n* component follow common packaging guidelines and policies defined by Fedora\n\n"
        "o adherence to FHS - Filesystem Hierarchy Standard\n\nDeployment notes:\n\n* none\n\n"
        'Known Issues:\n\n* affected by "config_bdii_5.1 does not chown /opt/glite/var/cache/gip"\n',
    ),
    (
        "emi.lfc-mysql/1.8.2",  # products/UMD/1.5.0/emi.lfc_mysql1.8.2.json, 2012
        "What's new\n\nThis is a bufix release\n\nInstallation & configuration\n\nNo special instructions\n\n"
        "Known issues\n\nNone\n",
    ),
    (
        "emi.dpm/1.8.6",  # products/UMD/1.10.0/emi.dpm1.8.6.json, 2013
        "This is a very minimal release, covering two security vulnerabilities recently reported. "
        "No new functionality has been introduced.\n\nFixed bugs\n\nLCGDM-852: quick fix for reported vulnerability"
        "\n\nLCGDM-859: authz issue in the srm\n",
    ),
    (
        "emi.blah/1.24.0",  # products/UMD/3.5.0/emi.blah1.24.0.json, 2014
        "Fixed the following bugs: * CREAM-112 - sge_local_submit_attributes.sh problem with memory requirements\n",
    ),
    (
        "apel.apel/1.3.1",  # products/UMD/3.11.0/apel.apel1.3.1.json, 2015
        "Corrected the handling of muliple FQANs in blah logs so that the role and group are taken from the first "
        "(i.e. primary) FQAN rather than the last.\nFixed a crash that occurred when the parser encountered an empty "
        "file.\nAdded support for parsing fractional seconds in XML usage records.\nFixed database loader crash when "
        "save_messages was set to false.\nAdded options to unloader.conf to allow the unloader to unload more than "
        "just the current and previous months.\n",
    ),
    (
        "dpm.dpm/1.8.10",  # products/UMD/3.14.1/dpm.dpm1.8.10.json, 2015: HTML with <br> and an escaped <=
        "https://svnweb.cern.ch/trac/lcgdm/attachment/wiki/Dpm/dpm1.8.10_relnotes.txt\n\n"
        "In addition to the notes above, please read carefully the following.\n\n"
        "The DPM team has discovered a critical bug in the new HTTP based drain commands implemented in the "
        "dmlite-shell and the lcgdm-dav component available in DPM 1.8.10. This version of DPM has been released in "
        "UMD 3.14.1. Using the new drain commands together with lcgdm-dav version <= 0.16.0 can lead to data loss in "
        "some circumstances.\n\n",
    ),
    (
        "dcache.dcache/2.13.28",  # products/UMD/4.1.0/dcache.dcache2.13.28.json, 2016
        "https://www.dcache.org/downloads/1.9/release-notes-2.13.shtml#28\n",
    ),
    (
        "apel.apel-ssm/2.1.7",  # products/CMD-OS/1.1.0/apel.apel-ssm2.1.7.json, 2017
        "Added a delay when receiver is reconnecting to improve reliability. Improved the log output for SSM "
        "receivers so that there are fewer trivial entries and so it's more useful in tracking messages on the "
        "filesystem.\n",
    ),
    (
        "dpm.dpm/1.9.2",  # products/UMD/4.6.1/dpm.dpm1.9.2.json, 2018: three changelog links, one entry each
        "This update includes de releases 1.9.1, 1.9.2 and lcgdm 0.19.0. Please consult the changelog for the full "
        "notes.\n\n## Changes\n\n- http://lcgdm.web.cern.ch/dpm-191-release\n- http://lcgdm.web.cern.ch/dpm-192-release\n"
        "- http://lcgdm.web.cern.ch/lcgdm-dav-0190-released-epel\n",
    ),
    (
        "cern.yaim-core/5.1.7",  # products/UMD/4.8.2/cern.yaim-core5.1.7.json, 2019
        'This release provides a fix for the warning "join" command on CentOS 6/ 7.\n',
    ),
    (
        "lcmaps-plugins.lcmaps-plugins/1.8.1",  # products/UMD/4.15.0/lcmaps-plugins.lcmaps-plugins1.8.1.json, 2021
        "Update of several lcmapas plugins\n\n## Changes\n\n- https://wiki.nikhef.nl/grid/Site\\_Access\\_Control\n",
    ),
    (
        "egi.nagios-plugins-webdav/0.4.6",  # products/UMD/4.17.2/egi.nagios-plugins-webdav0.4.6.json, 2023
        "UMD 4.17.2 is an revision update release of UMD 4. It includes the new and update nagios-plugin for webdav "
        "probe.\n\n## Changes\n\n- nagios-plugins-webdav 0.4.6 minor update.\n",
    ),
]


@pytest.mark.parametrize(("release", "expected"), REAL_NOTES, ids=[r for r, _ in REAL_NOTES])
def test_notes_carry_the_real_text(
    imported: tuple[Repo, subprocess.CompletedProcess[str]], release: str, expected: str
) -> None:
    repo, _ = imported
    # The notes show record text inert (escaped where Markdown would act on it): what a
    # reader sees, rendered as GitHub renders it, is the source's text.
    assert rendered(expected) in rendered(notes(repo, release))


def rendered(markdown: str) -> str:
    """The text a reader sees of `markdown`, rendered as CommonMark, with white space folded."""
    parser = HTMLTextParser()
    parser.feed(MarkdownIt("commonmark").render(markdown))
    return " ".join("".join(parser.text).split())


class HTMLTextParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("a", "code", "em", "strong"):  # a block starts: it reads as a break
            self.text.append(" ")


def test_distribution_notes_are_the_real_text_in_markdown(
    imported: tuple[Repo, subprocess.CompletedProcess[str]],
) -> None:
    repo, _ = imported
    text = notes(repo, "umd/4.1.0", "--distribution")
    # distributions/UMD/4.1.0.json: escaped HTML (&lt;b&gt;CentOS 7&lt;/b&gt;&lt;br&gt;&lt;ul&gt;&lt;li&gt;...).
    seen = rendered(text)
    assert "This release contains the following products. **CentOS 7**" in seen
    assert "- Frontier-Squid 2.7.STABLE9-24.2\n- dCache 2.13.28\n" in text
    assert "Authorization\n\n- argus-pap 1.6.4\n" in text
    assert "**Known issues:** Please, visit https://wiki.egi.eu/wiki/UMD-4:UMD-4.1.0 for known issues." in seen
    assert "please visit the EGI Helpdesk (https://ggus.eu/) to make a report." in seen
    # The links stay links; nothing of the source's HTML comes through.
    assert "<https://wiki.egi.eu/wiki/UMD-4:UMD-4.1.0>" in text
    assert "&lt;" not in seen and "<br>" not in text
    assert "| Releases | 36 |" in text


def test_the_dashboard_builds_with_the_real_links(
    imported: tuple[Repo, subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    repo, _ = imported
    built = repo.rollout("site", "--out", str(tmp_path / "site"), "--today", TODAY)
    assert built.returncode == 0, built.stderr
    assert "for 872 releases" in built.stdout
    page = (tmp_path / "site/releases/dcache.dcache/2.13.28.html").read_text()
    assert '<a href="https://www.dcache.org/downloads/1.9/release-notes-2.13.shtml#28">' in page
    assert (tmp_path / "site/distributions/umd/4.1.0.html").is_file()


def test_a_link_in_html_stays_a_link(imported: tuple[Repo, subprocess.CompletedProcess[str]]) -> None:
    repo, _ = imported
    # products/UMD/3.12.0/dcache.dcache2.10.24.json: changeLog holds <a href="...#24">...#24</a>.
    record = yaml.safe_load((repo.root / "releases/dcache.dcache/2.10.24/release.yaml").read_text())
    assert record["changelog"] == [
        "This is a major upgrade fro dCache from 2.6 to 2.10. Please have a look for details at: "
        "<http://www.dcache.org/downloads/1.9/release-notes-2.10.shtml#24>"
    ]


def test_unmappable_records_are_listed_with_their_reason(
    imported: tuple[Repo, subprocess.CompletedProcess[str]],
) -> None:
    _, result = imported
    assert (
        "skipped distributions/UMD/5.0.0.json: UMD 5.0.0 ships umd.umd-release 5.0.0, which is candidate: "
        "a distribution release lists only accepted or released releases"
    ) in result.stderr
    assert "2 source entries skipped" in result.stdout


def small_history(root: Path) -> Path:
    """Two releases of one product in two distribution releases, in the history's layout."""
    source = root / "history"
    write_json(source / "products/UMD/4.1.0/apel.apel1.0.0.json", product("apel.apel", "1.0.0"))
    write_json(
        source / "products/UMD/4.2.0/apel.apel1.1.0.json",
        product("apel.apel", "1.1.0", distributionVersion="4.2.0", releaseDate="2016-09-01"),
    )
    for version, shipped in (("4.1.0", "1.0.0"), ("4.2.0", "1.1.0")):
        write_json(
            source / f"distributions/UMD/{version}.json",
            {
                "distributionType": "UMD",
                "distributionVersion": version,
                "currentState": "deployed",
                "releaseDate": "2016-09-01 10:00:00",
                "description": f"UMD {version}",
                "releaseNotes": "&lt;b&gt;new&lt;/b&gt;",
                "products": [{"name": "apel.apel", "version": shipped}],
            },
        )
    return source


def import_small(source: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_rollout("import", "umd", str(source), "--out", str(out), *extra, cwd=source.parent)


def test_an_edited_record_is_never_overwritten(tmp_path: Path) -> None:
    source = small_history(tmp_path)
    root = tmp_path / "repo"
    first = import_small(source, root, "--coordinator", "c-one", "--bot", "b-bot")
    assert first.returncode == 0, first.stderr
    assert "6 records: 6 written" in first.stdout
    edited = root / "releases/apel.apel/1.0.0/release.yaml"
    text = edited.read_text().replace("summary: apel.apel 1.0.0", "summary: APEL 1.0.0 (checked by hand)")
    edited.write_text(text)
    removed = root / "distributions/umd/4.2.0.yaml"
    removed.unlink()
    result = import_small(source, root)
    assert result.returncode == 0, result.stderr
    assert edited.read_text() == text
    assert "kept releases/apel.apel/1.0.0/release.yaml: it differs from what the import writes" in result.stderr
    assert removed.is_file()
    assert "5 records: 1 written, 3 unchanged, 1 kept as edited" in result.stdout


def test_import_into_an_existing_repository_adds_its_vocabulary(tmp_path: Path) -> None:
    repo = build_repo(tmp_path / "repo")
    result = import_small(small_history(tmp_path), repo.root)
    assert result.returncode == 0, result.stderr
    config = (repo.root / "rollout.yaml").read_text()
    assert config.startswith("# yaml-language-server: $schema=schema/rollout.schema.json\n")  # comments kept
    assert "added to rollout.yaml: platforms.centos7, groups.accounting" in result.stdout
    # The history is written by the repository's own bot.
    assert "by: rollout-bot" in (repo.root / "releases/apel.apel/1.1.0/release.yaml").read_text()
    checked = repo.rollout("validate")
    assert checked.returncode == 0, checked.stdout[:2000]


def test_a_new_repository_needs_its_people(tmp_path: Path) -> None:
    result = run_import(tmp_path / "empty")
    assert result.returncode == 2
    assert "give --coordinator LOGIN and --bot LOGIN" in result.stderr
    assert not (tmp_path / "empty").exists()


def test_bad_logins_write_nothing(tmp_path: Path) -> None:
    source = small_history(tmp_path)
    result = import_small(source, tmp_path / "out", "--coordinator", "c-one", "--bot", "x y")
    assert result.returncode == 2
    assert "'x y' is not a GitHub login" in result.stderr
    result = import_small(source, tmp_path / "out", "--coordinator", "same", "--bot", "same")
    assert result.returncode == 2
    assert (
        "cannot write rollout.yaml from --coordinator and --bot: the bot cannot also be a coordinator" in result.stderr
    )
    assert not (tmp_path / "out").exists()


def write_json(path: Path, data: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))


def product(name: str, version: str, **changes: object) -> dict[str, object]:
    return {
        "name": name,
        "version": version,
        "target": [{"platform": "centos7", "arch": "x86_64"}],
        "capabilities": ["Accounting"],
        "currentState": "deployed",
        "technologyProvider": "APEL",
        "description": "Accounting.",
        "releaseDate": "2016-05-27 13:37:36",
        "releaseNotes": "notes",
        "changeLog": "",
        "repositoryURL": "sw/production/umd/4",
        "distributionType": "UMD",
        "distributionVersion": "4.1.0",
        **changes,
    }


def test_each_bad_source_entry_is_named_with_its_reason(tmp_path: Path) -> None:
    source = tmp_path / "history"
    folder = source / "products/UMD/4.1.0"
    write_json(folder / "good1.0.json", product("apel.apel", "1.0"))
    write_json(folder / "bad-name.json", product("apel/../../x", "1.0"))
    write_json(folder / "bad-version.json", product("apel.apel", "1.0 beta"))
    write_json(folder / "bad-date.json", product("apel.other", "1.0", releaseDate="27/05/2016"))
    write_json(folder / "bad-state.json", product("apel.third", "1.0", currentState="removed"))
    (folder / "broken.json").write_text("{not json")
    write_json(folder / "list.json", [1, 2])
    out = tmp_path / "out"
    result = run_rollout(
        "import", "umd", str(source), "--out", str(out), "--coordinator", "c-one", "--bot", "b-bot", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    skipped = sorted(line for line in result.stderr.splitlines() if line.startswith("skipped "))
    assert skipped == [
        "skipped products/UMD/4.1.0/bad-date.json: release date '27/05/2016' is not a date",
        "skipped products/UMD/4.1.0/bad-name.json: product name 'apel/../../x' cannot be made an identifier "
        "([a-z0-9][a-z0-9._-]*)",
        "skipped products/UMD/4.1.0/bad-state.json: state 'removed' has no equivalent",
        "skipped products/UMD/4.1.0/bad-version.json: version '1.0 beta' is not a valid version "
        "([A-Za-z0-9][A-Za-z0-9._+~-]*)",
        "skipped products/UMD/4.1.0/broken.json: not readable as JSON: Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)",
        "skipped products/UMD/4.1.0/list.json: not a JSON object",
    ]
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml")) == [
        "releases/apel.apel/1.0/release.yaml",
        "releases/apel.apel/product.yaml",
        "rollout.yaml",
    ]
    assert run_rollout("validate", cwd=out).returncode == 0


def test_two_distribution_files_for_one_record_keep_the_first(tmp_path: Path) -> None:
    source = small_history(tmp_path)
    twin = json.loads((source / "distributions/UMD/4.1.0.json").read_text())
    write_json(source / "distributions/umd/4.1.0.json", {**twin, "distributionType": "umd"})
    result = import_small(source, tmp_path / "out", "--coordinator", "c-one", "--bot", "b-bot")
    assert result.returncode == 0, result.stderr
    assert (
        "skipped distributions/umd/4.1.0.json: distribution release umd 4.1.0: distributions/umd/4.1.0.yaml "
        "was already made from distributions/UMD/4.1.0.json"
    ) in result.stderr
    assert "source: distributions/UMD/4.1.0.json" in (tmp_path / "out/distributions/umd/4.1.0.yaml").read_text()


def test_nothing_importable_fails(tmp_path: Path) -> None:
    source = tmp_path / "history"
    write_json(source / "products/UMD/4.1.0/x.json", product("apel.apel", "1.0", currentState="removed"))
    result = import_small(source, tmp_path / "out", "--bot", "b")
    assert result.returncode == 2  # no --coordinator for a new repository
    result = import_small(source, tmp_path / "out", "--coordinator", "c", "--bot", "b")
    assert result.returncode == 1
    assert "state 'removed' has no equivalent" in result.stderr
    assert not (tmp_path / "out" / "rollout.yaml").exists()


# ---------------------------------------------------------------- the mapping's pieces


@pytest.mark.parametrize(
    ("version", "previous", "expected"),
    [
        ("2.13.28", None, "major"),
        ("3.0.1", "2.13.28", "major"),
        ("2.14.0", "2.13.28", "minor"),
        ("2.13.29", "2.13.28", "revision"),
        ("2.7.STABLE9-24.2", "2.7.STABLE9-24.1", "revision"),
        ("15.03.4", "15.3.3", "minor"),  # 03 and 3 are spelled differently: the text changed
    ],
)
def test_release_type_follows_the_first_part_that_changed(version: str, previous: str | None, expected: str) -> None:
    assert umd.release_type(version, previous) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("", ""),
        (None, ""),
        ("  plain\n\n\n\n   text  ", "plain\n\ntext"),
        ("a<br>b", "a\nb"),
        ("&lt;b&gt;bold&lt;/b&gt; &amp; co", "**bold** & co"),
        ('<a href="https://x.org/a_b">https://x.org/a_b</a>', "<https://x.org/a_b>"),
        ('<a href="https://x.org/">site</a>', "[site](https://x.org/)"),
        ("path /etc/<sitename>/conf", "path /etc/<sitename>/conf"),  # not an HTML tag: kept as written
        ("one\u2028two\x07", "one\ntwo"),
    ],
)
def test_markdown(source: str | None, expected: str) -> None:
    assert umd.markdown(source) == expected


def test_changelog_entries() -> None:
    assert umd.changelog("- one\n* two\n\nthree\n") == ["one", "two", "three"]
    assert umd.changelog("<ul><li>a</li><li>b</li></ul>") == ["a", "b"]
    assert umd.changelog("x" * 2500) == ["x" * 2000, "x" * 500]
