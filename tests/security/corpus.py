"""A labelled redaction corpus, generated afresh on each call: secret formats and placements
(file name, text, the exact secret substrings that must not survive). Bodies come from
`secrets`, so no real credential is ever written down here."""

from __future__ import annotations

import base64
import secrets
import string
import uuid
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Case:
    format: str
    file: str
    text: str
    secrets: tuple[str, ...]


def pick(alphabet: str, n: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def alnum(n: int) -> str:
    """Random letters and digits, with at least one of each kind (as real keys have)."""
    return (
        pick(string.ascii_uppercase, 1)
        + pick(string.digits, 1)
        + pick(string.ascii_lowercase, 1)
        + pick(ALNUM, n - 3)
    )


def hexs(n: int) -> str:
    return secrets.token_hex(n // 2)


def b64(n_bytes: int) -> str:
    return base64.b64encode(secrets.token_bytes(n_bytes)).decode()


def password() -> str:
    return alnum(10) + secrets.choice("!#%^*") + alnum(5)


def pem_lines(n: int = 6) -> list[str]:
    body = b64(48 * n + 20)
    return [body[i : i + 64] for i in range(0, len(body), 64)]


def _case(fmt: str, file: str, template: str, *found: str) -> Case:
    """`template` with @0@, @1@... standing for the secrets."""
    text = template
    for i, secret in enumerate(found):
        text = text.replace(f"@{i}@", secret)
    return Case(fmt, file, text, found)


def _tokens() -> list[Case]:
    t = _case
    return [
        t(
            "AWS access key id",
            "deploy.py",
            'AWS_ACCESS_KEY_ID = "@0@"\n',
            "AKIA" + pick(UPPER, 16),
        ),
        t("AWS secret key, ini", "aws.cfg", "[default]\naws_secret_access_key = @0@\n", b64(30)),
        t("GitHub classic token", "ci.py", 'GH = "@0@"\n', "ghp_" + alnum(36)),
        t(
            "GitHub fine-grained token",
            "release.sh",
            "export GH_PAT=@0@\n",
            "github_pat_" + alnum(22) + "_" + alnum(59),
        ),
        t("GitLab token", ".gitlab-ci.yml", "variables:\n  DEPLOY: @0@\n", "glpat-" + alnum(20)),
        t(
            "Anthropic key",
            "settings.py",
            'client = Anthropic(api_key="@0@")\n',
            "sk-ant-api03-" + alnum(90),
        ),
        t(
            "OpenAI key",
            "llm.ts",
            'const openai = new OpenAI({ apiKey: "@0@" });\n',
            "sk-proj-" + alnum(48),
        ),
        t(
            "Google API key",
            "maps.js",
            "fetch(`https://maps.example/api?key=@0@`)\n",
            "AIza" + alnum(35),
        ),
        t(
            "Slack bot token",
            "bot.py",
            'app = App(token="@0@")\n',
            f"xoxb-{pick(string.digits, 12)}-{pick(string.digits, 12)}-{alnum(24)}",
        ),
        t(
            "Slack webhook URL",
            "notify.py",
            'HOOK = "https://hooks.slack.com/services/@0@"\n',
            f"T{pick(UPPER, 8)}/B{pick(UPPER, 10)}/{alnum(24)}",
        ),
        t("Stripe live key", "billing.rb", 'Stripe.api_key = "@0@"\n', "sk_live_" + alnum(24)),
        t("npm automation token", "publish.yml", "  NODE_AUTH_TOKEN: @0@\n", "npm_" + alnum(36)),
        t("Hugging Face token", "hub.py", 'login("@0@")\n', "hf_" + alnum(34)),
        t(
            "JSON web token",
            "api.http",
            "Authorization: Bearer @0@\n",
            f"eyJ{alnum(30)}.eyJ{alnum(40)}.{alnum(43)}",
        ),
        t(
            "bearer token in curl",
            "smoke.sh",
            'curl -H "Authorization: Bearer @0@" https://api.example.com\n',
            alnum(40),
        ),
        t(
            "basic auth header",
            "client.py",
            'headers = {"Authorization": "Basic @0@"}\n',
            base64.b64encode(f"admin:{password()}".encode()).decode(),
        ),
        t(
            "SendGrid key",
            "mail.py",
            'sg = SendGridAPIClient("@0@")\n',
            f"SG.{alnum(22)}.{alnum(43)}",
        ),
        t(
            "Mailgun key",
            "mail.js",
            'const mg = mailgun.client({ key: "@0@" });\n',
            "key-" + hexs(32),
        ),
        t(
            "Twilio SID and auth token",
            "sms.py",
            'client = Client("@0@", "@1@")\n',
            "AC" + hexs(32),
            hexs(32),
        ),
        t("Twilio API key", "sms.py", 'api_key_sid = "@0@"\n', "SK" + hexs(32)),
        t("Twilio auth token, env", "twilio.env", "TWILIO_AUTH_TOKEN=@0@\n", hexs(32)),
        t(
            "Discord bot token",
            "bot.js",
            'client.login("@0@")\n',
            f"M{alnum(23)}.{alnum(6)}.{alnum(27)}",
        ),
        t(
            "Telegram bot token",
            "tg.py",
            'bot = Bot("@0@")\n',
            f"{pick(string.digits, 10)}:AA{alnum(33)}",
        ),
        t(
            "PyPI token",
            "upload.sh",
            "twine upload -p @0@ dist/*\n",
            "pypi-AgEIcHlwaS5vcmc" + alnum(80),
        ),
        t("Square OAuth secret", "pay.py", 'SQUARE = "@0@"\n', "sq0csp-" + alnum(43)),
        t(
            "Mailchimp key",
            "news.py",
            'mc.set_config({"api_key": "@0@"})\n',
            f"{hexs(32)}-us{secrets.randbelow(20) + 1}",
        ),
        t("Heroku API key (UUID)", "release.env", "HEROKU_API_KEY=@0@\n", str(uuid.uuid4())),
    ]


def _connections() -> list[Case]:
    t = _case
    return [
        t(
            "postgres URL password",
            "db.py",
            'DSN = "postgres://app:@0@@db.internal:5432/app"\n',
            password(),
        ),
        t("redis URL, password only", "cache.yml", "url: redis://:@0@@cache:6379/0\n", alnum(20)),
        t(
            "mongodb+srv URL",
            "mongo.js",
            'connect("mongodb+srv://root:@0@@cluster0.example")\n',
            alnum(18),
        ),
        t(
            "Azure storage AccountKey",
            "storage.py",
            'CONN = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=@0@;"\n',
            b64(64),
        ),
        t(
            "Azure SharedAccessKey",
            "bus.cs",
            'var c = "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;'
            'SharedAccessKey=@0@";\n',
            b64(32),
        ),
        t(
            "Azure SAS URL",
            "blob.py",
            'URL = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=@0@"\n',
            b64(32).replace("+", "%2B").replace("/", "%2F"),
        ),
        t(
            "npm legacy _authToken UUID",
            "project.npmrc",
            "//registry.npmjs.org/:_authToken=@0@\n",
            str(uuid.uuid4()),
        ),
        t("npm legacy _auth", "ci.npmrc", "_auth=@0@\nalways-auth=true\n", b64(24)),
        t(
            "Docker config auth",
            "docker.json",
            '{\n  "auths": {\n    "ghcr.io": {\n      "auth": "@0@"\n    }\n  }\n}\n',
            base64.b64encode(f"bot:{password()}".encode()).decode(),
        ),
        t("CLI password flag", "backup.sh", "pg_dump --password=@0@ app > dump.sql\n", password()),
        t(
            "XML password element",
            "settings.xml",
            "<server>\n  <password>@0@</password>\n</server>\n",
            password(),
        ),
    ]


def _passwords() -> list[Case]:
    t = _case
    return [
        t("YAML password, bare", "config.yaml", "db:\n  user: app\n  password: @0@\n", password()),
        t("YAML password, quoted", "values.yml", 'password: "@0@"\n', password()),
        t(
            "YAML password, plain word",
            "app.yaml",
            "admin_password: @0@\n",
            "".join(secrets.choice(string.ascii_lowercase) for _ in range(14)),
        ),
        t("INI password", "app.ini", "[db]\npassword = @0@\n", password()),
        t("INI passwd", "my.cnf", "[client]\npasswd=@0@\n", password()),
        t("shell export password", "env.sh", "export DB_PASSWORD=@0@\n", password()),
        t("shell export token, quoted", "run.sh", 'export API_TOKEN="@0@"\n', alnum(32)),
        t("shell one-line env", "restore.sh", "PGPASSWORD=@0@ psql -h db app\n", password()),
        t(".env password", "defaults.env", "DATABASE_PASSWORD=@0@\n", password()),
        t(".env secret key", "local.env", "SECRET_KEY=@0@\n", alnum(40)),
        t(
            "properties password",
            "application.properties",
            "spring.datasource.password=@0@\n",
            password(),
        ),
        t("TOML password", "settings.toml", 'password = "@0@"\n', password()),
        t(
            "compose env list",
            "docker-compose.yml",
            "services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD=@0@\n",
            password(),
        ),
        t(
            "Python keyword argument",
            "db.py",
            'conn = connect(host="db", password="@0@")\n',
            password(),
        ),
        t("Python dict entry", "config.py", 'CONFIG = {"api_key": "@0@"}\n', alnum(32)),
        t("JS object property", "config.js", 'module.exports = { apiKey: "@0@" };\n', alnum(32)),
        t("Go constant", "main.go", 'const apiToken = "@0@"\n', alnum(32)),
        t("Java field", "Db.java", 'private String password = "@0@";\n', password()),
        t("JSON password", "config.json", '{"db_password": "@0@"}\n', password()),
        t("YAML client secret, hex", "oauth.yml", "client_secret: @0@\n", hexs(64)),
        t("signing key, high entropy", "keys.py", 'SIGNING_KEY = "@0@"\n', b64(33)),
    ]


def _keys() -> list[Case]:
    t, body = _case, pem_lines()
    rsa = "\n".join(body)
    marks = tuple(body)
    ssh = [b64(52)[:70] for _ in range(5)]
    escaped = "\\n".join(body)
    der = b64(600)
    return [
        Case(
            "PEM block",
            "key.txt",
            "-----BEGIN RSA PRIVATE KEY-----\n" + rsa + "\n-----END RSA PRIVATE KEY-----\n",
            marks,
        ),
        Case(
            "PEM body, no BEGIN in the hunk",
            "certs.py",
            "@@ -20,6 +20,6 @@ KEY = '''\n "
            + "\n ".join(body[2:])
            + "\n------END PRIVATE KEY-----'''".replace("------", " -----")
            + "\n",
            marks[2:],
        ),
        Case(
            "PEM body, END missing",
            "notes.md",
            "```\n-----BEGIN PRIVATE KEY-----\n" + rsa + "\n```\n",
            marks,
        ),
        Case(
            "PEM body, removed lines",
            "old.py",
            "@@ -1,8 +0,0 @@\n-KEY = '''\n-" + "\n-".join(body) + "\n-'''\n",
            marks,
        ),
        Case("PEM body, lines only", "fixture.txt", "\n".join(body[1:4]) + "\n", marks[1:4]),
        Case(
            "OpenSSH private key",
            "deploy_key.txt",
            "-----BEGIN OPENSSH PRIVATE KEY-----\n"
            + "\n".join(ssh)
            + "\n-----END OPENSSH PRIVATE KEY-----\n",
            tuple(ssh),
        ),
        Case(
            "PEM in JSON string",
            "sa.json",
            '{"type": "service_account", "private_key": '
            '"-----BEGIN PRIVATE KEY-----\\n' + escaped + '\\n-----END PRIVATE KEY-----\\n"}\n',
            marks,
        ),
        t(
            "base64-encoded PEM",
            "secret.yaml",
            "data:\n  tls.key: @0@\n",
            base64.b64encode(("-----BEGIN PRIVATE KEY-----\n" + rsa).encode()).decode(),
        ),
        t("base64-encoded key material", "keys.py", 'MASTER_KEY_B64 = "@0@"\n', b64(32)),
        t("base64 DER key, one line", "k.txt", "key: @0@\n", der),
    ]


def _placements() -> list[Case]:
    t, tok, pw = _case, "ghp_" + alnum(36), password()
    half = "sk-proj-" + alnum(40)
    aws = "AKIA" + pick(UPPER, 16)
    return [
        t(
            "secret in a hunk header",
            "db.py",
            '@@ -10,6 +10,7 @@ def connect(password="@0@"):\n     pass\n',
            pw,
        ),
        t(
            "token on a context line",
            "ci.py",
            '@@ -1,3 +1,4 @@\n import os\n TOKEN = "@0@"\n+print(1)\n',
            tok,
        ),
        t("token on a removed line", "ci.py", '@@ -1,2 +1,1 @@\n-TOKEN = "@0@"\n x = 1\n', tok),
        t(
            "password on an added YAML line",
            "values.yaml",
            "@@ -3,2 +3,3 @@ db:\n   user: app\n+  password: @0@\n",
            pw,
        ),
        t(
            "export on a context line",
            "deploy.sh",
            "@@ -1,2 +1,2 @@\n export SECRET=@0@\n-a\n+b\n",
            alnum(24),
        ),
        t(
            "edit-hook batch",
            "settings.py",
            'Edit:\n@@ -1,1 +1,1 @@\n-API_KEY = None\n+API_KEY = "@0@"',
            tok,
        ),
        Case(
            "key split across two literals",
            "llm.py",
            f'KEY = ("{half[:12]}"\n       "{half[12:]}")\n',
            (half[:12], half[12:]),
        ),
        Case(
            "key split with +",
            "ci.py",
            f'TOKEN = "{tok[:10]}" + "{tok[10:]}"\n',
            (tok[:10], tok[10:]),
        ),
        Case("AWS key id split", "aws.py", f'KEY_ID = "{aws[:4]}" + "{aws[4:]}"\n', (aws[4:],)),
    ]


def corpus() -> list[Case]:
    """Every case, with fresh random secrets."""
    return [*_tokens(), *_connections(), *_passwords(), *_keys(), *_placements()]
