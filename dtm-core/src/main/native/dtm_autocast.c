/*
 * JNI shim over libtorch's autocast state (at::autocast), for org.dtmspark.core.precision.Autocast.
 *
 * DJL 0.36 has no autocast. libtorch keeps autocast as thread-local state and exports the functions
 * that set it; this library finds the libtorch_cpu.so that DJL already loaded into the process
 * (dl_iterate_phdr), resolves those functions by their mangled names (dlsym) and calls them. It
 * includes no libtorch header and links against nothing but libdl: the enums it passes are
 * c10::DeviceType (CPU 0, CUDA 1) and c10::ScalarType (Half 5, BFloat16 15), both int8_t.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <jni.h>
#include <link.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*set_enabled_fn)(int8_t device, _Bool enabled);
typedef _Bool (*is_enabled_fn)(int8_t device);
typedef void (*set_dtype_fn)(int8_t device, int8_t dtype);
typedef int8_t (*get_dtype_fn)(int8_t device);
typedef int (*nesting_fn)(void);
typedef void (*void_fn)(void);

static set_enabled_fn set_enabled;
static is_enabled_fn is_enabled;
static set_dtype_fn set_dtype;
static get_dtype_fn get_dtype;
static nesting_fn increment_nesting;
static nesting_fn decrement_nesting;
static void_fn clear_cache;

static char torch_path[4096];

static int find_torch(struct dl_phdr_info *info, size_t size, void *data) {
  (void)size;
  (void)data;
  const char *name = info->dlpi_name;
  if (name == NULL) {
    return 0;
  }
  const char *slash = strrchr(name, '/');
  const char *base = slash == NULL ? name : slash + 1;
  if (strcmp(base, "libtorch_cpu.so") == 0 && strlen(name) < sizeof(torch_path)) {
    strcpy(torch_path, name);
    return 1;
  }
  return 0;
}

static void throw_state(JNIEnv *env, const char *message) {
  jclass cls = (*env)->FindClass(env, "java/lang/IllegalStateException");
  if (cls != NULL) {
    (*env)->ThrowNew(env, cls, message);
  }
}

/* Resolves every function; returns NULL on success, else a message naming what is missing. */
static const char *resolve(void *lib) {
  static char missing[512];
#define RESOLVE(var, type, symbol)                                                   \
  var = (type)dlsym(lib, symbol);                                                    \
  if (var == NULL) {                                                                 \
    snprintf(missing, sizeof(missing), "libtorch_cpu.so at %s lacks symbol %s", torch_path, \
             symbol);                                                                \
    return missing;                                                                  \
  }
  RESOLVE(set_enabled, set_enabled_fn, "_ZN2at8autocast20set_autocast_enabledEN3c1010DeviceTypeEb")
  RESOLVE(is_enabled, is_enabled_fn, "_ZN2at8autocast19is_autocast_enabledEN3c1010DeviceTypeE")
  RESOLVE(set_dtype, set_dtype_fn,
          "_ZN2at8autocast18set_autocast_dtypeEN3c1010DeviceTypeENS1_10ScalarTypeE")
  RESOLVE(get_dtype, get_dtype_fn, "_ZN2at8autocast18get_autocast_dtypeEN3c1010DeviceTypeE")
  RESOLVE(increment_nesting, nesting_fn, "_ZN2at8autocast17increment_nestingEv")
  RESOLVE(decrement_nesting, nesting_fn, "_ZN2at8autocast17decrement_nestingEv")
  RESOLVE(clear_cache, void_fn, "_ZN2at8autocast11clear_cacheEv")
#undef RESOLVE
  return NULL;
}

JNIEXPORT void JNICALL Java_org_dtmspark_core_precision_Autocast_bind(JNIEnv *env, jclass cls) {
  (void)cls;
  torch_path[0] = '\0';
  dl_iterate_phdr(find_torch, NULL);
  if (torch_path[0] == '\0') {
    throw_state(env, "libtorch_cpu.so is not loaded: start DJL's PyTorch engine first");
    return;
  }
  void *lib = dlopen(torch_path, RTLD_LAZY | RTLD_NOLOAD);
  if (lib == NULL) {
    throw_state(env, dlerror());
    return;
  }
  const char *error = resolve(lib);
  if (error != NULL) {
    throw_state(env, error);
  }
}

JNIEXPORT void JNICALL Java_org_dtmspark_core_precision_Autocast_enter(
    JNIEnv *env, jclass cls, jint device, jint dtype) {
  (void)env;
  (void)cls;
  set_enabled((int8_t)device, 1);
  set_dtype((int8_t)device, (int8_t)dtype);
  increment_nesting();
}

JNIEXPORT void JNICALL Java_org_dtmspark_core_precision_Autocast_exit(
    JNIEnv *env, jclass cls, jint device, jboolean wasEnabled, jint previousDtype) {
  (void)env;
  (void)cls;
  if (decrement_nesting() == 0) {
    clear_cache();
  }
  set_enabled((int8_t)device, wasEnabled);
  set_dtype((int8_t)device, (int8_t)previousDtype);
}

JNIEXPORT jboolean JNICALL Java_org_dtmspark_core_precision_Autocast_enabled(
    JNIEnv *env, jclass cls, jint device) {
  (void)env;
  (void)cls;
  return is_enabled((int8_t)device) ? JNI_TRUE : JNI_FALSE;
}

JNIEXPORT jint JNICALL Java_org_dtmspark_core_precision_Autocast_dtype(
    JNIEnv *env, jclass cls, jint device) {
  (void)env;
  (void)cls;
  return get_dtype((int8_t)device);
}
