// Who is logged in (the identity bridge's session, masked as the manual shows it); null when nobody is.
import { defineStore } from "pinia";
import { ref } from "vue";

import { api, type Schemas } from "@/api/client";

export const useSession = defineStore("session", () => {
  const profile = ref<Schemas["SessionProfile"] | null>(null);
  const loaded = ref(false);

  async function load(): Promise<void> {
    const { data } = await api.GET("/api/identity/session");
    profile.value = data ?? null;
    loaded.value = true;
  }

  function hasRole(role: string): boolean {
    return profile.value?.roles.some((r) => r.role === role) ?? false;
  }

  return { profile, loaded, load, hasRole };
});
