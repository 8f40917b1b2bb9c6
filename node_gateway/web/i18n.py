"""The pages' words in Chinese (the default) and English: a message catalogue, not a framework.

``MESSAGES`` maps a key to its (Chinese, English) text, with ``{name}`` placeholders; a plugin adds
its own keys (``plugins.Pages.messages``). A key missing from the catalogue shows as itself, so a
forgotten message is visible on the page rather than an error.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

LANGUAGES = ("zh", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # the frame
    "app.name": ("函证网", "confirmnet"),
    "lang.switch": ("English", "中文"),
    "role.operator": ("联盟运营方", "consortium operator"),
    "role.audit_firm": ("会计师事务所", "audit firm"),
    "role.bank": ("银行", "bank"),
    "role.regulator": ("监管机构", "regulator"),
    "frame.member": ("成员编号", "member"),
    "frame.not_member": ("尚未加入", "not yet a member"),
    "frame.chain": ("链 ID", "chain id"),
    "frame.head": ("最新区块", "head block"),
    "frame.indexed": ("已索引至", "indexed to"),
    "sync.in_sync": ("已同步", "in sync"),
    "sync.behind": ("落后 {lag} 个区块", "{lag} blocks behind"),
    "sync.unreachable": ("链节点无法连接", "chain node unreachable"),
    "frame.user": ("用户", "user"),
    "userrole.auditor": ("审计人员", "auditor"),
    "userrole.auditee": ("被审计单位签字人", "auditee's signer"),
    "userrole.officer": ("经办", "officer"),
    "userrole.preparer": ("编制人", "preparer"),
    "userrole.reviewer": ("复核人", "reviewer"),
    "userrole.analyst": ("分析员", "analyst"),
    "userrole.operator": ("运营人员", "operator"),
    "userrole.admin": ("管理员", "admin"),
    "frame.roles": ("角色", "roles"),
    "nav.members": ("成员", "Members"),
    "nav.health": ("网络状况", "Network health"),
    "nav.users": ("用户管理", "Users"),
    "nav.account": ("我的账户", "My account"),
    "nav.api": ("API 文档", "API docs"),
    "nav.sign_out": ("退出", "Sign out"),
    "nav.skip": ("跳到正文", "Skip to content"),
    # sign-in and the account
    "sign_in.title": ("登录", "Sign in"),
    "sign_in.name": ("用户名", "Name"),
    "sign_in.password": ("密码", "Password"),
    "sign_in.submit": ("登录", "Sign in"),
    "sign_in.failed": ("用户名或密码错误", "Wrong name or password"),
    "sign_in.hint": (
        "使用本机构网关管理员为您设置的用户名和密码。程序访问请使用 API 密钥。",
        "Use the name and password this member's gateway admin gave you. Programs use API keys.",
    ),
    "totp.title": ("动态验证码", "One-time code"),
    "totp.code": ("验证器应用中的 6 位验证码", "The 6-digit code from your authenticator app"),
    "totp.submit": ("验证", "Verify"),
    "totp.failed": ("验证码错误或已使用", "Wrong or already used code"),
    "password.title": ("修改密码", "Change your password"),
    "password.one_time": (
        "您使用的是一次性密码,请设置自己的密码后继续。",
        "You signed in with a one-time password: choose your own to continue.",
    ),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码(至少 10 个字符)", "New password (at least 10 characters)"),
    "password.repeat": ("再次输入新密码", "New password again"),
    "password.mismatch": ("两次输入的新密码不一致", "The two new passwords differ"),
    "password.submit": ("保存密码", "Save password"),
    "password.changed": ("密码已修改", "Your password is changed"),
    "account.title": ("我的账户", "My account"),
    "account.totp": ("双因素认证(TOTP)", "Two-factor authentication (TOTP)"),
    "account.totp_on": ("已启用", "On"),
    "account.totp_off": ("未启用", "Off"),
    "account.totp_start": ("启用 TOTP", "Turn on TOTP"),
    "account.totp_secret": (
        "在验证器应用中添加此密钥(仅显示这一次),然后输入应用显示的验证码:",
        "Add this key to your authenticator app (it is shown this once), then type the code it shows:",
    ),
    "account.totp_uri": ("或使用此链接", "or this link"),
    "account.totp_confirm": ("确认启用", "Confirm"),
    "account.totp_enabled": ("TOTP 已启用", "TOTP is on"),
    # tables
    "table.filter": ("筛选", "Filter"),
    "table.filter_text": ("包含文字", "Containing"),
    "table.all": ("全部", "All"),
    "table.apply": ("应用", "Apply"),
    "table.clear": ("清除", "Clear"),
    "table.export_csv": ("导出 CSV", "Export CSV"),
    "table.export_xlsx": ("导出 Excel", "Export Excel"),
    "table.rows": ("共 {total} 行,第 {page}/{pages} 页", "{total} rows, page {page} of {pages}"),
    "table.previous": ("上一页", "Previous"),
    "table.next": ("下一页", "Next"),
    "table.empty": ("没有符合条件的行", "No rows match"),
    "table.sort_by": ("按此列排序", "Sort by this column"),
    "table.live": ("每 5 秒自动更新", "Updates itself every 5 seconds"),
    # members
    "members.title": ("联盟成员", "Members of the consortium"),
    "members.id": ("编号", "No."),
    "members.name": ("名称", "Name"),
    "members.role": ("类型", "Kind"),
    "members.status": ("状态", "Status"),
    "members.account": ("链上账户", "Account"),
    "members.endpoint": ("网关地址", "Gateway endpoint"),
    "members.org_id": ("机构标识", "Organisation id"),
    "members.queued": ("已提交、待上链", "Queued, not yet on chain"),
    "members.admit": ("接纳新成员", "Admit a member"),
    "members.actions": ("操作", "Actions"),
    "members.open": ("详情", "Details"),
    "status.active": ("正常", "active"),
    "status.suspended": ("已暂停", "suspended"),
    "status.revoked": ("已撤销", "revoked"),
    "status.none": ("无", "none"),
    "action.suspend": ("暂停", "Suspend"),
    "action.reinstate": ("恢复", "Reinstate"),
    "action.revoke": ("撤销(不可恢复)", "Revoke (final)"),
    "action.queued": (
        "已提交:{what}。上链后本页会自动更新。",
        "Queued: {what}. This page updates itself once it is on chain.",
    ),
    "action.none": ("该成员当前状态下没有可执行的操作", "Nothing can be done to this member now"),
    "action.operator": (
        "运营方成员的变更须经其他运营方链上投票(治理提案)",
        "An operator's changes go through the other operators' vote on chain (governance)",
    ),
    "admit.title": ("接纳新成员", "Admit a member"),
    "admit.fetch": ("从网关读取身份", "Read the identity from its gateway"),
    "admit.fetch_hint": (
        "输入新成员网关地址,读取其公开身份(账户、加密公钥)后核对并提交。",
        "Type the new member's gateway endpoint to read its public identity (account, encryption keys), "
        "then check it and submit.",
    ),
    "admit.fetched": ("已从 {endpoint} 读取,请核对", "Read from {endpoint}: check it"),
    "admit.account": ("链上账户地址", "Account address"),
    "admit.role": ("成员类型", "Kind of member"),
    "admit.code": ("统一社会信用代码", "Registration code"),
    "admit.name": ("名称", "Name"),
    "admit.keys": ("加密公钥(十六进制)", "Encryption keys (hex)"),
    "admit.submit": ("提交接纳", "Admit"),
    # health
    "health.title": ("网络状况", "Network health"),
    "health.this": ("本网关", "This gateway"),
    "health.outbox": ("待上链交易", "Queued transactions"),
    "health.stuck": ("卡住的交易", "Stuck transactions"),
    "health.deliveries": ("待投递信封", "Queued deliveries"),
    "health.gateways": ("各成员网关", "The members' gateways"),
    "health.reachable": ("可达性", "Reachability"),
    "health.ok": ("正常", "ok"),
    "health.degraded": ("降级", "degraded"),
    "health.unreachable": ("无法连接", "unreachable"),
    "health.no_endpoint": ("未登记地址", "no endpoint"),
    "health.latency": ("响应 (ms)", "Latency (ms)"),
    "health.checked": ("检查于 {time}(北京时间)", "checked at {time} (Beijing time)"),
    # users
    "users.title": ("用户管理", "Users"),
    "users.name": ("用户名", "Name"),
    "users.roles": ("角色", "Roles"),
    "users.password": ("密码", "Password"),
    "users.password_yes": ("已设置", "set"),
    "users.password_one_time": ("一次性", "one-time"),
    "users.password_no": ("无(仅 API 密钥)", "none (API key only)"),
    "users.totp": ("TOTP", "TOTP"),
    "users.created": ("创建时间", "Created"),
    "users.state": ("状态", "State"),
    "users.active": ("有效", "active"),
    "users.revoked": ("已停用", "revoked"),
    "users.add": ("添加用户", "Add a user"),
    "users.add_submit": ("添加", "Add"),
    "users.created_secret": (
        "用户 {name} 已添加。请将一次性密码交给本人(仅显示这一次),首次登录时须修改:",
        "User {name} is added. Hand over the one-time password (shown this once); it is changed at the first sign-in:",
    ),
    "users.api_key": ("API 密钥(供程序使用,仅显示这一次)", "API key (for programs, shown this once)"),
    "users.reset": ("重置密码", "Reset password"),
    "users.reset_done": (
        "用户 {name} 的一次性密码(仅显示这一次):",
        "The one-time password of {name} (shown this once):",
    ),
    "users.totp_remove": ("关闭 TOTP", "Turn TOTP off"),
    "users.totp_removed": ("已关闭 {name} 的 TOTP", "TOTP of {name} is off"),
    "users.revoke": ("停用", "Revoke"),
    "users.revoked_done": ("已停用 {name}", "{name} is revoked"),
    # home and errors
    "home.title": ("首页", "Home"),
    "home.later": (
        "本机构角色的页面将在后续版本提供;目前可使用 API 与命令行。",
        "The pages of this member's role come in a later version; use the API and the CLI meanwhile.",
    ),
    "error.title": ("出错了", "Something went wrong"),
    "error.code": ("错误代码", "Error code"),
    "error.back": ("返回", "Go back"),
    "error.401": ("请先登录", "Please sign in"),
    "error.403": ("您没有此页面所需的权限", "You lack the role this page needs"),
    "error.404": ("找不到该内容", "Not found"),
    "error.409": ("当前状态不允许此操作", "The current state does not allow this"),
    "error.422": ("请求内容有误", "The request is wrong"),
    "error.503": ("服务暂时不可用", "The service is unavailable"),
}


class Catalogue:
    """The core's messages with those of the plugins; ``translator(lang)`` gives the ``t`` of the
    templates."""

    def __init__(self, extra: Sequence[Mapping[str, tuple[str, str]]] = ()) -> None:
        self.messages = dict(MESSAGES)
        for messages in extra:
            self.messages.update(messages)

    def translator(self, lang: str) -> Callable[..., str]:
        index = LANGUAGES.index(lang) if lang in LANGUAGES else 0

        def t(key: str, **values: Any) -> str:
            pair = self.messages.get(key)
            return key if pair is None else pair[index].format(**values)

        return t
