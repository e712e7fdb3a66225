"""The form's one stylesheet: plain, light, one column that fits a phone, visible focus."""

from __future__ import annotations

CSS = """\
*{box-sizing:border-box}
body{margin:0 auto;max-width:42rem;padding:1rem;font:16px/1.5 system-ui,sans-serif;
color:#1d1d1f;background:#fff}
header{display:flex;justify-content:space-between;align-items:baseline;gap:1rem;
border-bottom:1px solid #ddd}
.company{margin:.5rem 0;font-weight:600}
h1{font-size:1.5rem;margin:1rem 0 .5rem}
h2{font-size:1.1rem;margin:1rem 0 .25rem}
label{display:block;font-weight:600;margin-bottom:.25rem}
input[type=text],input[type=email],textarea,select{width:100%;padding:.5rem;font:inherit;
border:1px solid #888;border-radius:4px;background:#fff;color:inherit}
input[type=radio],input[type=checkbox]{width:1.2rem;height:1.2rem;vertical-align:middle}
input[type=radio]+label,input[type=checkbox]+label{display:inline;font-weight:400}
small{display:block;color:#555}
button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:4px;background:#0a58ca;
color:#fff;cursor:pointer}
button.secondary{background:#e9ecef;color:#1d1d1f}
button.link{background:none;color:#0a58ca;padding:0;text-decoration:underline}
a{color:#0a58ca}
:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.notes{border-left:4px solid #d97706;background:#fff8eb;padding:.5rem 1rem;margin:1rem 0}
.notice{border-left:4px solid #0a58ca;background:#f0f6ff;padding:.5rem 1rem;margin:1rem 0}
.invalid input,.invalid textarea{border-color:#b91c1c}
.problem{display:block;color:#b91c1c}
.status{font-size:1.1rem}
fieldset{border:1px solid #ddd;border-radius:4px;margin:1rem 0}
dt{font-weight:600}dd{margin:0 0 .5rem;white-space:pre-wrap}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
.skip{position:absolute;left:-10000px}.skip:focus{position:static}
footer{margin-top:2rem;border-top:1px solid #ddd;padding-top:.5rem;display:flex;gap:1rem;
flex-wrap:wrap;align-items:baseline}
footer form{margin:0}
"""
