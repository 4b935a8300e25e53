"""Grid staffing: the pure rules (geo.staffing) and the store's saves (data.staffing) on SQLite and PostGIS."""
from __future__ import annotations

import threading
from datetime import date

import pandas as pd
import pytest
from sqlalchemy import func, select

from data import schema
from data.accounts import create_account, deactivate
from data.staffing import assign_worker, grid_history, read_grid_workers, update_grid_figures, vacate_grid
from data.store import data_version, engine_for, migrate, write_frames
from geo.access import Account, system_operator
from geo.briefing import headline_kpis
from geo.errors import ConflictError, DataValidationError, GuloError, PermissionDenied
from geo.rollup import with_ratios
from geo.scope import Scope
from geo.staffing import (
    check_assignment,
    check_figures,
    check_vacate,
    describe_change,
    normalise_phone,
    vacancy_days,
    vacant_grids,
)
from geo.vocab import Role
from tests.test_store import C1, C2, G1, G2, ST, tiny_district

TODAY = date(2026, 11, 30)
VACANT = {"code": G2, "worker": None, "worker_since": None, "households": 530, "population": 1400}
STAFFED = {"code": G1, "worker": "林小梅", "worker_since": date(2024, 3, 1), "households": 480, "population": 1250}


# ---------------------------------------------------------------- phone numbers and names


@pytest.mark.parametrize(("typed", "stored"), [
    ("13800001234", "13800001234"), ("138 0000 1234", "13800001234"), ("+86 138-0000-1234", "13800001234"),
    ("１３８００００１２３４", "13800001234"), ("0591-87654321", "0591-87654321"), ("059187654321", "0591-87654321"),
    ("(0591) 8765 4321", "0591-87654321"), ("010-62345678", "010-62345678"), ("0591-87654321转808", "0591-87654321-808"),
])
def test_phone_numbers_as_offices_type_them(typed, stored):
    assert normalise_phone(typed) == stored


@pytest.mark.parametrize("bad", ["", "12345", "1380000123", "138000012345", "12800001234", "0591-1234567",
                                 "87654321", "电话13800001234", "138****1234"])
def test_bad_phone_numbers_are_refused(bad):
    with pytest.raises(ValueError, match="不能为空|不是有效的电话号码"):
        normalise_phone(bad)


def test_assignment_rules_name_every_problem():
    clean, problems = check_assignment(VACANT, " 陈建华 ", "13800001234", date(2026, 11, 2), TODAY)
    assert problems == [] and clean == {"worker": "陈建华", "worker_phone": "13800001234",
                                        "worker_since": date(2026, 11, 2)}
    _, problems = check_assignment(STAFFED, "", "123", date(2026, 12, 5), TODAY)
    assert problems == ["专职网格员：该网格已有专职网格员“林小梅”，请先登记其离岗", "专职网格员：不能为空",
                        "联系电话：“123”不是有效的电话号码：应为11位手机号（如 13800001234）"
                        "或带区号的固定电话（如 0591-87654321）",
                        "到岗日期：2026-12-05 晚于今天（2026-11-30），不能登记将来的到岗"]
    _, problems = check_assignment(VACANT, "王伟2", "13800001234", date(2026, 10, 1), TODAY, last_ended=date(2026, 10, 9))
    assert problems == ["专职网格员：“王伟2”不像姓名：不能含数字或控制字符",
                        "到岗日期：2026-10-01 早于上一任网格员的离岗日期 2026-10-09，任职期间不能重叠"]
    assert check_assignment(VACANT, "陈", "13800001234", None, TODAY)[1] == ["到岗日期：不能为空"]


@pytest.mark.parametrize(("grid", "ended", "problem"), [
    (STAFFED, date(2024, 2, 29), "离岗日期：2024-02-29 早于到岗日期 2024-03-01"),
    (STAFFED, date(2026, 12, 1), "离岗日期：2026-12-01 晚于今天（2026-11-30），不能登记将来的离岗"),
    (STAFFED, None, "离岗日期：不能为空"),
    (STAFFED, "下周", "离岗日期：应为日期（如 2026-05-01），实为“下周”"),
    (VACANT, date(2026, 11, 1), "专职网格员：该网格目前没有专职网格员，无需登记离岗"),
])
def test_vacate_rules(grid, ended, problem):
    day, problems = check_vacate(grid, ended, TODAY)
    assert day is None and problem in problems


def test_vacate_on_the_start_day_and_today_is_allowed():
    assert check_vacate(STAFFED, date(2024, 3, 1), TODAY) == (date(2024, 3, 1), [])
    assert check_vacate(STAFFED, TODAY, TODAY) == (TODAY, [])


@pytest.mark.parametrize(("changes", "problem"), [
    ({"households": 0}, "户数：应为正整数，实为 0"),
    ({"population": -5}, "常住人口：应为正整数，实为 -5"),
    ({"assistants": -1}, "网格协管员人数：不能为负数，实为 -1"),
    ({"households": "许多"}, "户数：应为整数，实为“许多”"),
    ({"households": 2.5}, "户数：应为整数，实为“2.5”"),
    ({"population": 400}, "常住人口：400 少于户数 480，常住人口不能少于户数"),
    ({"households": 1300}, "常住人口：1250 少于户数 1300，常住人口不能少于户数"),
    ({"worker": "张三"}, "字段“worker”：不允许在此修改，可修改的字段为：户数、常住人口、网格协管员人数"),
])
def test_figure_rules(changes, problem):
    clean, problems = check_figures(STAFFED, changes)
    assert clean == {} and problem in problems


def test_figures_pass_as_integers():
    assert check_figures(STAFFED, {"households": "500", "population": 1300.0, "assistants": 0}) == (
        {"households": 500, "population": 1300, "assistants": 0}, [])


# ---------------------------------------------------------------- vacancies from the periods

PERIODS = pd.DataFrame({
    "grid_code": ["a", "a", "b", "c"],
    "started_on": [date(2020, 1, 1), date(2026, 11, 10), date(2021, 5, 1), date(2019, 1, 1)],
    "ended_on": [date(2026, 10, 20), None, date(2026, 11, 15), None],
})
GRIDS = pd.DataFrame({"code": ["a", "b", "c", "d", "e"], "worker": ["甲", None, "丙", "丁", None],
                      "worker_since": [date(2026, 11, 10), None, date(2019, 1, 1), date(2026, 6, 1), None]})


@pytest.mark.parametrize(("day", "vacant"), [
    (date(2026, 11, 30), ["b", "e"]),           # today: the current state
    (date(2026, 11, 15), ["b", "e"]),           # b's worker left that day
    (date(2026, 11, 14), ["e"]),                # a's new worker since 11-10, b still there
    (date(2026, 10, 30), ["a", "e"]),           # a between its two workers
    (date(2026, 10, 20), ["a", "e"]),           # a's first worker left that day
    (date(2026, 5, 1), ["d", "e"]),             # d has no periods: staffed from its worker_since
])
def test_vacant_grids_on_a_day(day, vacant):
    assert vacant_grids(PERIODS, GRIDS, day)["code"].tolist() == vacant


def test_vacant_grids_leaves_its_inputs_alone_and_checks_columns():
    before = PERIODS.copy(), GRIDS.copy()
    vacant_grids(PERIODS, GRIDS, date(2026, 10, 30))
    pd.testing.assert_frame_equal(PERIODS, before[0])
    pd.testing.assert_frame_equal(GRIDS, before[1])
    with pytest.raises(ValueError, match="网格员任职记录缺少字段：ended_on"):
        vacant_grids(PERIODS.drop(columns="ended_on"), GRIDS, TODAY)
    assert vacant_grids(PERIODS.iloc[:0], GRIDS.iloc[:0], TODAY).empty


def test_vacancy_days():
    assert vacancy_days(PERIODS, "a", date(2026, 10, 1), date(2026, 11, 30)) == 21  # 10-20 … 11-09
    assert vacancy_days(PERIODS, "b", date(2026, 11, 1), date(2026, 11, 30)) == 16  # 11-15 … 11-30
    assert vacancy_days(PERIODS, "c", date(2026, 1, 1), date(2026, 12, 31)) == 0
    assert vacancy_days(PERIODS, "a", date(2019, 12, 30), date(2020, 1, 1)) == 2  # before the first period
    assert vacancy_days(PERIODS, {"code": "d", "worker": "丁", "worker_since": date(2026, 6, 1)},
                        date(2026, 5, 30), date(2026, 6, 2)) == 2
    assert vacancy_days(PERIODS, {"code": "e", "worker": None}, date(2026, 11, 1), date(2026, 11, 30)) == 30
    with pytest.raises(ValueError, match="结束日期 2026-01-01 早于开始日期 2026-02-01"):
        vacancy_days(PERIODS, "a", date(2026, 2, 1), date(2026, 1, 1))


def test_vacancy_kpi_shows_the_change_since_the_previous_period_end():
    table = pd.DataFrame({"households": [1000], "population": [2600], "grids": [2], "vacancies": [2], "assistants": [1],
                          "compounds": [0], "completed": [0], "managed": [0], "disputes": [0], "resolved": [0],
                          "failed": [0], "overdue": [0]})
    total = with_ratios(table).iloc[0]
    previous = total.copy()
    previous["vacancies"] = 1
    kpi = next(k for k in headline_kpis(total, previous, "近30天", 30) if k.key == "vacancies")
    assert kpi.text == "2" and kpi.change_text == "+1 较上期末" and kpi.lower_is_better


def test_history_lines():
    assert describe_change({"worker": None, "worker_since": None}, {"worker": "陈建华", "worker_since": "2026-11-02"}) \
        == "专职网格员：（空） → 陈建华；到岗日期：（空） → 2026-11-02"


# ---------------------------------------------------------------- the store, on both backends

JM = Account("jm_duty", Role.COMMUNITY, C1, display_name="军门督导")
LIN = Account("lingong", Role.STREET, ST)
ADMIN = Account("qu_admin", Role.DISTRICT)
DAGEN = Account("dagen_duty", Role.COMMUNITY, C2)


@pytest.fixture
def engine(db_url):
    eng = engine_for(db_url)
    migrate(eng)
    write_frames(eng, tiny_district(), actor="测试", action="insert")
    for acct in (JM, LIN, ADMIN, DAGEN):
        create_account(eng, system_operator("测试"), acct.username, acct.role, acct.scope_code)
    return eng


def grid_row(engine, code: str) -> dict:
    t = schema.grids
    with engine.connect() as conn:
        return dict(conn.execute(select(t).where(t.c.code == code)).mappings().one())


def audit_rows(engine, code: str, action: str | None = None) -> list[dict]:
    t = schema.audit_log
    stmt = select(t).where(t.c.record_code == code).order_by(t.c.id)
    if action:
        stmt = stmt.where(t.c.action == action)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def test_assign_opens_a_period_bumps_the_version_and_moves_the_data_version(engine):
    v0 = data_version(engine)
    row = assign_worker(engine, G2, "陈建华", "138 0000 1234", date(2026, 11, 2), 1, LIN, today=TODAY)
    assert (row["worker"], row["worker_phone"], row["worker_since"], row["version"]) == \
        ("陈建华", "13800001234", date(2026, 11, 2), 2)
    periods = read_grid_workers(engine)
    assert periods[["grid_code", "worker", "phone"]].values.tolist() == [[G2, "陈建华", "13800001234"]]
    assert periods["started_on"].iloc[0] == pd.Timestamp("2026-11-02") and periods["ended_on"].isna().all()
    assert data_version(engine) > v0
    entry = grid_history(engine, G2).iloc[0]
    assert entry["actor"] == "lingong" and entry["action"] == "update"
    assert entry["before"] == {"worker": None, "worker_phone": None, "worker_since": None}
    assert entry["after"] == {"worker": "陈建华", "worker_phone": "13800001234", "worker_since": "2026-11-02"}
    assert entry["summary"].startswith("专职网格员：（空） → 陈建华；联系电话：（空） → 13800001234")


def test_vacate_closes_the_period_and_the_grid_counts_as_vacant_from_that_day(engine):
    assign_worker(engine, G2, "陈建华", "13800001234", date(2026, 9, 1), 1, LIN, today=TODAY)
    row = vacate_grid(engine, G2, date(2026, 11, 20), 2, LIN, today=TODAY)
    assert row["worker"] is None and row["worker_phone"] is None and row["worker_since"] is None and row["version"] == 3
    periods = read_grid_workers(engine)
    assert periods["ended_on"].tolist() == [pd.Timestamp("2026-11-20")]
    grids = pd.DataFrame([grid_row(engine, G1), grid_row(engine, G2)])
    assert G2 in vacant_grids(periods, grids, date(2026, 11, 20))["code"].tolist()
    assert G2 not in vacant_grids(periods, grids, date(2026, 11, 19))["code"].tolist()
    assert grid_history(engine, G2).iloc[0]["after"] == {"worker": None, "worker_phone": None, "worker_since": None,
                                                       "ended_on": "2026-11-20"}


def test_vacating_a_worker_without_a_period_records_one(engine):
    """林小梅 came with the tiny district (no grid_workers row, no start date): her leaving is still kept."""
    vacate_grid(engine, G1, date(2026, 11, 1), 1, JM, today=TODAY)
    periods = read_grid_workers(engine)
    assert periods[["grid_code", "worker"]].values.tolist() == [[G1, "林小梅"]]
    assert periods["ended_on"].iloc[0] == pd.Timestamp("2026-11-01")


def test_figures_saved_and_an_unchanged_save_writes_nothing(engine):
    row = update_grid_figures(engine, G1, {"households": 505, "population": 1260, "assistants": 3}, 1, JM)
    assert (row["households"], row["population"], row["assistants"], row["version"]) == (505, 1260, 3, 2)
    entry = grid_history(engine, G1).iloc[0]
    assert entry["before"] == {"households": 480, "population": 1250, "assistants": 2}
    assert entry["summary"] == "户数：480 → 505；常住人口：1250 → 1260；网格协管员人数：2 → 3"
    v = data_version(engine)
    assert update_grid_figures(engine, G1, {"households": 505}, 2, JM)["version"] == 2
    assert data_version(engine) == v and len(audit_rows(engine, G1, "update")) == 1


@pytest.mark.parametrize(("save", "match"), [
    (lambda e: assign_worker(e, G2, "陈建华", "12345", date(2026, 11, 2), 1, LIN, today=TODAY), "不是有效的电话号码"),
    (lambda e: assign_worker(e, G2, "陈建华", "13800001234", date(2026, 12, 2), 1, LIN, today=TODAY), "不能登记将来的到岗"),
    (lambda e: vacate_grid(e, G1, date(2026, 12, 1), 1, LIN, today=TODAY), "不能登记将来的离岗"),
    (lambda e: update_grid_figures(e, G1, {"population": 100}, 1, LIN), "常住人口不能少于户数"),
    (lambda e: assign_worker(e, G1, "陈建华", "13800001234", date(2026, 11, 2), 1, LIN, today=TODAY), "请先登记其离岗"),
])
def test_invalid_saves_write_nothing(engine, save, match):
    v0 = data_version(engine)
    with pytest.raises(DataValidationError, match=match) as err:
        save(engine)
    assert err.value.problems
    assert data_version(engine) == v0 and grid_row(engine, G1)["version"] == grid_row(engine, G2)["version"] == 1
    assert read_grid_workers(engine).empty


def test_assignment_cannot_overlap_the_previous_worker(engine):
    assign_worker(engine, G2, "陈建华", "13800001234", date(2026, 9, 1), 1, LIN, today=TODAY)
    vacate_grid(engine, G2, date(2026, 11, 10), 2, LIN, today=TODAY)
    with pytest.raises(DataValidationError, match="早于上一任网格员的离岗日期 2026-11-10"):
        assign_worker(engine, G2, "林芳", "0591-87654321", date(2026, 11, 9), 3, LIN, today=TODAY)
    row = assign_worker(engine, G2, "林芳", "0591-87654321", date(2026, 11, 10), 3, LIN, today=TODAY)  # a handover day
    assert row["worker"] == "林芳" and len(read_grid_workers(engine, Scope(C2))) == 2
    assert read_grid_workers(engine, Scope(C1)).empty


ROLE_CASES = [
    # (account, grid, allowed)
    (JM, G1, True), (JM, G2, False), (LIN, G2, True), (ADMIN, G2, True), (None, G1, False),
    (DAGEN, G1, False), (DAGEN, G2, True),
]


@pytest.mark.parametrize(("account", "grid", "allowed"), ROLE_CASES)
@pytest.mark.parametrize("path", ["assign", "vacate", "figures"])
def test_every_save_checks_the_scope_in_the_store(engine, account, grid, allowed, path):
    if path == "assign" and grid == G1:  # make G1 vacant first, as the district
        vacate_grid(engine, G1, date(2026, 11, 1), 1, ADMIN, today=TODAY)
    if path == "vacate" and grid == G2:
        assign_worker(engine, G2, "陈建华", "13800001234", date(2026, 11, 1), 1, ADMIN, today=TODAY)
    version = grid_row(engine, grid)["version"]
    save = {"assign": lambda: assign_worker(engine, grid, "赵敏", "13900001111", date(2026, 11, 25), version, account,
                                            today=TODAY),
            "vacate": lambda: vacate_grid(engine, grid, date(2026, 11, 25), version, account, today=TODAY),
            "figures": lambda: update_grid_figures(engine, grid, {"assistants": 4}, version, account)}[path]
    if allowed:
        assert save()["version"] == version + 1
        return
    v0 = data_version(engine)
    with pytest.raises(PermissionDenied, match="未登录|只能修改"):
        save()
    assert grid_row(engine, grid)["version"] == version and data_version(engine) == v0
    refusal = audit_rows(engine, grid, "denied")[-1]
    assert refusal["table_name"] == "grids" and refusal["actor"] == (account.username if account else "（未登录）")


def test_a_deactivated_account_is_refused_inside_the_transaction(engine):
    deactivate(engine, system_operator("测试"), JM.username)
    with pytest.raises(PermissionDenied, match="已停用或不存在"):
        update_grid_figures(engine, G1, {"assistants": 4}, 1, JM)  # the session still holds the old account
    assert grid_row(engine, G1)["version"] == 1


def test_stale_version_and_unknown_grid(engine):
    update_grid_figures(engine, G1, {"assistants": 3}, 1, JM)
    with pytest.raises(ConflictError, match="该网格已被他人修改（当前版本 2）"):
        vacate_grid(engine, G1, date(2026, 11, 1), 1, LIN, today=TODAY)
    with pytest.raises(GuloError, match="找不到网格“350102004001999”"):
        update_grid_figures(engine, "350102004001999", {"assistants": 3}, 1, ADMIN)
    assert read_grid_workers(engine).empty and grid_row(engine, G1)["worker"] == "林小梅"


@pytest.mark.parametrize("round_", range(2))
def test_two_supervisors_saving_one_grid_at_once_exactly_one_wins(engine, round_):
    barrier = threading.Barrier(2)
    outcomes: list = [None, None]
    saves = [lambda: assign_worker(engine, G2, "陈建华", "13800001234", date(2026, 11, 2), 1, LIN, today=TODAY),
             lambda: assign_worker(engine, G2, "林芳", "0591-87654321", date(2026, 11, 3), 1, ADMIN, today=TODAY)]

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes[i] = saves[i]()
        except Exception as exc:  # the test looks at whatever happened
            outcomes[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    winners = [o for o in outcomes if isinstance(o, dict)]
    losers = [o for o in outcomes if isinstance(o, ConflictError)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert grid_row(engine, G2)["worker"] == winners[0]["worker"] and grid_row(engine, G2)["version"] == 2
    assert len(read_grid_workers(engine)) == 1 and len(audit_rows(engine, G2, "update")) == 1
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.grid_workers)).scalar() == 1
