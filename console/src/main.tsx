/// <reference lib="dom" />
/** Console entry point: mounts the app into #app. */

import { render } from "preact";
import { App } from "./app.tsx";

render(<App />, document.getElementById("app")!);
